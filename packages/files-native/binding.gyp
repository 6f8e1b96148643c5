{
  "targets": [
    {
      "target_name": "files_native",
      "sources": ["src/binding.c", "src/posix.c", "src/win32.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O2", "-Wall", "-Wextra"],
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      }
    }
  ]
}
