{
  "targets": [
    {
      "target_name": "aes_gcm",
      "sources": ["aes_gcm.c", "crc32c.c", "gcm_vaes.c", "stream_copy.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
