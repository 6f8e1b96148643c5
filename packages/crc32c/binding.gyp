{
  "targets": [
    {
      "target_name": "crc32c",
      "sources": [
        "binding.c",
        "src/crc32c_portable.c",
        "src/crc32c_x86.c",
        "src/crc32c_arm64.c",
        "src/crc32c_select.c"
      ],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags!": ["-O2"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"]
      },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
