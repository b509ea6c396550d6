{
  "targets": [
    {
      "target_name": "aes_gcm",
      "sources": ["aes_gcm.c", "crc32c.c", "gcm_vaes.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
