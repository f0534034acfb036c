#include "errno-text.h"

#include <bpf/libbpf.h>

#include <cstdio>
#include <cstring>

namespace sockeye {

std::string ErrnoText(int err) {
  if (err < 0) err = -err;
  char description[256];
  if (libbpf_strerror(err, description, sizeof description) != 0) {
    snprintf(description, sizeof description, "error %d", err);
  }
  const char* name = strerrorname_np(err);  // glibc >= 2.32; null for libbpf's private codes
  std::string text = name != nullptr ? name : ("E" + std::to_string(err));
  return text + " (" + description + ")";
}

}  // namespace sockeye
