#include "libbpf-log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sockeye {

namespace {
thread_local LibbpfLogCapture* active_capture = nullptr;
int echo_level = -1;  // highest libbpf level echoed to stderr; -1: none

// Caps one capture so a runaway debug stream cannot grow without bound; the verifier log tail is
// what matters and it comes last.
constexpr size_t kMaxCaptureBytes = 1 << 20;
}  // namespace

struct LibbpfLogSink {
  static int Print(enum libbpf_print_level level, const char* format, va_list args) {
    char stack_buf[1024];
    va_list copy;
    va_copy(copy, args);
    int n = vsnprintf(stack_buf, sizeof stack_buf, format, copy);
    va_end(copy);
    if (n < 0) return 0;
    std::string line;
    if (static_cast<size_t>(n) < sizeof stack_buf) {
      line.assign(stack_buf, n);
    } else {  // verifier logs arrive as one huge message
      line.resize(n + 1);
      vsnprintf(&line[0], line.size(), format, args);
      line.resize(n);
    }
    if (static_cast<int>(level) <= echo_level) fputs(line.c_str(), stderr);
    LibbpfLogCapture* cap = active_capture;
    if (cap != nullptr && level != LIBBPF_DEBUG) {
      cap->text_ += line;
      if (cap->text_.size() > kMaxCaptureBytes) cap->text_.erase(0, cap->text_.size() - kMaxCaptureBytes / 2);
    }
    return n;
  }
};

void InstallLibbpfLogger() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  const char* env = getenv("SOCKEYE_LIBBPF_LOG");
  if (env != nullptr && *env != '\0' && strcmp(env, "0") != 0) {
    echo_level = strcmp(env, "debug") == 0 ? LIBBPF_DEBUG : LIBBPF_INFO;
  }
  libbpf_set_print(&LibbpfLogSink::Print);
}

LibbpfLogCapture::LibbpfLogCapture() : previous_(active_capture) { active_capture = this; }

LibbpfLogCapture::~LibbpfLogCapture() { active_capture = previous_; }

std::string LibbpfLogCapture::Tail(size_t max_bytes) const {
  if (text_.size() <= max_bytes) return text_;
  size_t start = text_.size() - max_bytes;
  size_t nl = text_.find('\n', start);
  if (nl != std::string::npos && nl + 1 < text_.size()) start = nl + 1;
  return "...\n" + text_.substr(start);
}

std::string LibbpfLogCapture::LastLine() const {
  size_t end = text_.find_last_not_of("\n \t");
  if (end == std::string::npos) return "";
  size_t start = text_.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text_.substr(start, end - start + 1);
}

}  // namespace sockeye
