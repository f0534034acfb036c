// Polls one BPF ring buffer from the Node event loop, without threads: a uv_poll on libbpf's epoll
// fd plus a flush timer (producers may submit with BPF_RB_NO_WAKEUP). Each drain copies every
// record into one scratch buffer, [u32 LE length][record][pad record to 8], and makes ONE JS call
// per batch with a Buffer copy of it.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <vector>

struct ring_buffer;

namespace sockeye {

struct RingBufferStats {
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t bytes = 0;          // batch bytes handed to JS (framing included)
  uint64_t wakeups = 0;        // uv_poll readable callbacks
  uint64_t timer_drains = 0;   // flush-timer drains that found records
  uint64_t consume_errors = 0; // ring_buffer__consume failures (other than "batch full")
};

class RingBufferPoller {
 public:
  // Throws Napi::Error when libbpf or libuv refuse (named map, with errno text). keep_alive=false
  // unrefs the poll handle, so polling alone does not keep the process running.
  static RingBufferPoller* Start(Napi::Env env, int map_fd, const std::string& map_name, Napi::Function on_batch,
                                 uint32_t flush_interval_ms, bool keep_alive);

  // Drains synchronously (JS is on the stack: exceptions of onBatch propagate). Returns records.
  // May delete `this` when onBatch called Stop(); the caller must not touch it afterwards.
  int64_t PollNow();

  // Stops the handles and frees the ring buffer (now, or when the drain on the stack unwinds).
  // The poller deletes itself; callers drop their pointer.
  void Stop();

  const RingBufferStats& stats() const { return stats_; }

 private:
  RingBufferPoller(Napi::Env env, Napi::Function on_batch);
  ~RingBufferPoller();

  static int OnSample(void* ctx, void* data, size_t len);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);

  int64_t Drain(bool from_js, int max_rounds);
  void Deliver(bool from_js);

  Napi::Env env_;
  Napi::FunctionReference on_batch_;
  ring_buffer* rb_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  std::vector<uint8_t> scratch_;
  size_t used_ = 0;
  int64_t round_records_ = 0;
  int busy_ = 0;
  bool stopped_ = false;
  RingBufferStats stats_;
};

}  // namespace sockeye
