// The JS class behind agent/capture/native-bpf.ts: one libbpf bpf_object with its links and an
// optional ring-buffer poller. Generic libbpf plumbing; nothing sockeye-specific.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

struct bpf_object;
struct bpf_program;
struct bpf_link;
struct bpf_map;

namespace sockeye {

class RingBufferPoller;

class BpfObjectWrap : public Napi::ObjectWrap<BpfObjectWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit BpfObjectWrap(const Napi::CallbackInfo& info);
  ~BpfObjectWrap() override;

 private:
  // load(path, { rodata, mapSizes, skipPrograms }): open, configure, load. Throws with libbpf's log.
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value AttachAll(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Programs(const Napi::CallbackInfo& info);
  Napi::Value ProgramStats(const Napi::CallbackInfo& info);
  Napi::Value Maps(const Napi::CallbackInfo& info);
  Napi::Value MapUpdate(const Napi::CallbackInfo& info);
  Napi::Value MapDelete(const Napi::CallbackInfo& info);
  Napi::Value MapLookup(const Napi::CallbackInfo& info);
  Napi::Value MapLookupPerCpu(const Napi::CallbackInfo& info);
  Napi::Value StartRingBuffer(const Napi::CallbackInfo& info);
  Napi::Value PollNow(const Napi::CallbackInfo& info);
  Napi::Value RingBufferStats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Shared by close(), the env cleanup hook and the finalizer; never calls into JS.
  void Release();
  static void CleanupHook(void* arg);

  bpf_object* Loaded(Napi::Env env) const;  // throws when not loaded or closed
  bpf_map* FindMap(Napi::Env env, const std::string& name) const;
  bpf_program* FindProgram(Napi::Env env, const std::string& name) const;
  Napi::Object AttachOne(Napi::Env env, bpf_program* prog);
  void CheckKey(Napi::Env env, const char* op, bpf_map* map, const Napi::Value& key) const;

  struct Link {
    bpf_program* prog;
    bpf_link* link;
  };

  napi_env env_;
  std::string path_;
  bpf_object* obj_ = nullptr;
  std::vector<Link> links_;
  RingBufferPoller* poller_ = nullptr;
  std::string poller_map_;
  bool hook_registered_ = false;
  bool polling_ref_ = false;  // Ref() held while a ring buffer is polled
};

}  // namespace sockeye
