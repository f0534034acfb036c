// Routes libbpf's print callback into per-operation captures, so that a failed open/load/attach
// can put libbpf's own explanation (including the verifier log) into the JS Error.
#pragma once
#include <string>

namespace sockeye {

// Installs the process-wide libbpf print callback (idempotent). Messages are dropped unless a
// capture is active; SOCKEYE_LIBBPF_LOG=1 (or =debug) also echoes them to stderr.
void InstallLibbpfLogger();

// While alive, collects libbpf's warn/info messages of this thread. Not nestable (inner wins).
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  // The last `max_bytes` of output, cut at a line start; empty when nothing was logged.
  std::string Tail(size_t max_bytes) const;
  // The last non-empty line (libbpf's final word on what failed).
  std::string LastLine() const;
  // Drops what was collected so far (e.g. between the attach of two programs).
  void Clear() { text_.clear(); }

 private:
  friend struct LibbpfLogSink;
  std::string text_;
  LibbpfLogCapture* previous_;
};

}  // namespace sockeye
