{
  "targets": [
    {
      "target_name": "aes_gcm",
      "sources": ["aes_gcm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
