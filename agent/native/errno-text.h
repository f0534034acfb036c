// Kernel/libbpf error codes as text a user can act on: "ENOENT (No such file or directory)".
#pragma once
#include <string>

namespace sockeye {

// `err` may be positive or negative (libbpf returns -errno). Uses libbpf_strerror, so libbpf's
// own codes (LIBBPF_ERRNO__*) get their description too.
std::string ErrnoText(int err);

}  // namespace sockeye
