#include "ring-buffer-poller.h"

#include <bpf/libbpf.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

#include "errno-text.h"

namespace sockeye {

namespace {
// OnSample returns this to make ring_buffer__consume stop once a batch is big enough; the record
// that triggered it is already consumed and copied (libbpf advances the consumer before bailing).
constexpr int kBatchFull = -EFBIG;
constexpr size_t kBatchBytes = 1 << 20;        // hand JS at most ~1 MiB at a time
constexpr int kRoundsPerWakeup = 16;           // then yield to the event loop (poll is level-triggered)
constexpr int kRoundsPerPollNow = 1 << 12;

// uv_close callback: delete through the handle's real type (uv_poll_t / uv_timer_t).
template <typename Handle>
void FreeHandle(uv_handle_t* handle) {
  delete reinterpret_cast<Handle*>(handle);
}
}  // namespace

RingBufferPoller::RingBufferPoller(Napi::Env env, Napi::Function on_batch)
    : env_(env), on_batch_(Napi::Persistent(on_batch)) {
  scratch_.resize(64 * 1024);
}

RingBufferPoller::~RingBufferPoller() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
}

RingBufferPoller* RingBufferPoller::Start(Napi::Env env, int map_fd, const std::string& map_name,
                                          Napi::Function on_batch, uint32_t flush_interval_ms, bool keep_alive) {
  auto* self = new RingBufferPoller(env, on_batch);
  self->rb_ = ring_buffer__new(map_fd, &RingBufferPoller::OnSample, self, nullptr);
  if (self->rb_ == nullptr) {
    int err = errno;
    delete self;
    throw Napi::Error::New(env, "startRingBuffer(" + map_name + "): ring_buffer__new failed: " + ErrnoText(err));
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  self->poll_ = new uv_poll_t;
  int err = uv_poll_init(loop, self->poll_, ring_buffer__epoll_fd(self->rb_));
  if (err != 0) {
    delete self->poll_;
    self->poll_ = nullptr;
    delete self;
    throw Napi::Error::New(env, "startRingBuffer(" + map_name + "): uv_poll_init failed: " + uv_strerror(err));
  }
  self->poll_->data = self;
  err = uv_poll_start(self->poll_, UV_READABLE, &RingBufferPoller::OnReadable);
  if (err != 0) {
    self->Stop();
    throw Napi::Error::New(env, "startRingBuffer(" + map_name + "): uv_poll_start failed: " + uv_strerror(err));
  }
  if (!keep_alive) uv_unref(reinterpret_cast<uv_handle_t*>(self->poll_));
  if (flush_interval_ms > 0) {
    self->timer_ = new uv_timer_t;
    uv_timer_init(loop, self->timer_);
    self->timer_->data = self;
    uv_update_time(loop);  // the loop's cached "now" may be stale after long JS: the first flush would fire at once
    uv_timer_start(self->timer_, &RingBufferPoller::OnTimer, flush_interval_ms, flush_interval_ms);
    uv_unref(reinterpret_cast<uv_handle_t*>(self->timer_));  // only the poll handle may keep the loop alive
  }
  return self;
}

int RingBufferPoller::OnSample(void* ctx, void* data, size_t len) {
  auto* self = static_cast<RingBufferPoller*>(ctx);
  size_t padded = (len + 7) & ~static_cast<size_t>(7);
  size_t need = self->used_ + 4 + padded;
  if (need > self->scratch_.size()) {
    size_t grown = self->scratch_.size() * 2;
    self->scratch_.resize(grown > need ? grown : need);
  }
  uint8_t* out = self->scratch_.data() + self->used_;
  uint32_t len32 = static_cast<uint32_t>(len);
  out[0] = len32 & 0xff;
  out[1] = (len32 >> 8) & 0xff;
  out[2] = (len32 >> 16) & 0xff;
  out[3] = len32 >> 24;
  memcpy(out + 4, data, len);
  memset(out + 4 + len, 0, padded - len);
  self->used_ = need;
  self->round_records_++;
  return self->used_ >= kBatchBytes ? kBatchFull : 0;
}

void RingBufferPoller::OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<RingBufferPoller*>(handle->data);
  if (self == nullptr || self->stopped_) return;
  self->stats_.wakeups++;
  if (status < 0) self->stats_.consume_errors++;
  Napi::HandleScope scope(self->env_);
  self->Drain(false, kRoundsPerWakeup);
}

void RingBufferPoller::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<RingBufferPoller*>(handle->data);
  if (self == nullptr || self->stopped_) return;
  Napi::HandleScope scope(self->env_);
  int64_t n = self->Drain(false, kRoundsPerWakeup);
  // Drain deletes the poller when onBatch closed the object; Stop() cleared handle->data then.
  if (n > 0 && handle->data != nullptr) static_cast<RingBufferPoller*>(handle->data)->stats_.timer_drains++;
}

int64_t RingBufferPoller::PollNow() { return Drain(true, kRoundsPerPollNow); }

int64_t RingBufferPoller::Drain(bool from_js, int max_rounds) {
  int64_t total = 0;
  busy_++;
  try {
    for (int round = 0; round < max_rounds && !stopped_; round++) {
      round_records_ = 0;
      int rc = ring_buffer__consume(rb_);
      bool full = rc == kBatchFull;
      if (rc < 0 && !full) stats_.consume_errors++;
      total += round_records_;
      stats_.records += round_records_;
      if (used_ > 0) Deliver(from_js);
      if (!full) break;  // the ring was empty when libbpf last looked
    }
  } catch (...) {
    busy_--;
    if (stopped_ && busy_ == 0) delete this;
    throw;
  }
  busy_--;
  if (stopped_ && busy_ == 0) delete this;
  return total;
}

void RingBufferPoller::Deliver(bool from_js) {
  Napi::Buffer<uint8_t> batch = Napi::Buffer<uint8_t>::Copy(env_, scratch_.data(), used_);
  stats_.batches++;
  stats_.bytes += used_;
  used_ = 0;
  if (from_js) {
    on_batch_.Call({batch});
    return;
  }
  // From the event loop: MakeCallback runs nextTicks/microtasks afterwards. An exception thrown by
  // onBatch has no JS caller to go to: report it as uncaught, like any event-loop callback.
  try {
    on_batch_.MakeCallback(env_.Global(), {batch});
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env_, e.Value());
  }
}

void RingBufferPoller::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), FreeHandle<uv_poll_t>);
    poll_ = nullptr;
  }
  if (timer_ != nullptr) {
    timer_->data = nullptr;
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), FreeHandle<uv_timer_t>);
    timer_ = nullptr;
  }
  on_batch_.Reset();
  if (busy_ == 0) delete this;
}

}  // namespace sockeye
