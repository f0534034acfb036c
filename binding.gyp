{
  # The native libbpf addon (agent/native/). Built by `make native` with npm's own node-gyp,
  # linked against the system libbpf (libbpf-dev), libelf and zlib.
  "targets": [
    {
      "target_name": "sockeye_native",
      "sources": [
        "agent/native/addon-main.cc",
        "agent/native/bpf-object-wrap.cc",
        "agent/native/bpf-object-maps.cc",
        "agent/native/ring-buffer-poller.cc",
        "agent/native/rodata-globals.cc",
        "agent/native/libbpf-log.cc",
        "agent/native/errno-text.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
