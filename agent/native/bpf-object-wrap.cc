#include "bpf-object-wrap.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>

#include "errno-text.h"
#include "libbpf-log.h"
#include "ring-buffer-poller.h"
#include "rodata-globals.h"

namespace sockeye {

namespace {
constexpr size_t kLogTailBytes = 4096;

std::string WithLog(const std::string& message, const LibbpfLogCapture& log) {
  std::string tail = log.Tail(kLogTailBytes);
  return tail.empty() ? message : message + "\n--- libbpf log (tail) ---\n" + tail;
}

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }
}  // namespace

Napi::Function BpfObjectWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeBpfObject",
                     {
                         InstanceMethod("load", &BpfObjectWrap::Load),
                         InstanceMethod("attachAll", &BpfObjectWrap::AttachAll),
                         InstanceMethod("attach", &BpfObjectWrap::Attach),
                         InstanceMethod("programs", &BpfObjectWrap::Programs),
                         InstanceMethod("programStats", &BpfObjectWrap::ProgramStats),
                         InstanceMethod("maps", &BpfObjectWrap::Maps),
                         InstanceMethod("mapUpdate", &BpfObjectWrap::MapUpdate),
                         InstanceMethod("mapDelete", &BpfObjectWrap::MapDelete),
                         InstanceMethod("mapLookup", &BpfObjectWrap::MapLookup),
                         InstanceMethod("mapLookupPerCpu", &BpfObjectWrap::MapLookupPerCpu),
                         InstanceMethod("startRingBuffer", &BpfObjectWrap::StartRingBuffer),
                         InstanceMethod("pollNow", &BpfObjectWrap::PollNow),
                         InstanceMethod("ringBufferStats", &BpfObjectWrap::RingBufferStats),
                         InstanceMethod("close", &BpfObjectWrap::Close),
                     });
}

BpfObjectWrap::BpfObjectWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<BpfObjectWrap>(info), env_(info.Env()) {}

BpfObjectWrap::~BpfObjectWrap() { Release(); }

void BpfObjectWrap::CleanupHook(void* arg) {
  auto* self = static_cast<BpfObjectWrap*>(arg);
  self->hook_registered_ = false;  // being run: must not remove itself
  self->Release();
}

void BpfObjectWrap::Release() {
  if (poller_ != nullptr) {
    poller_->Stop();  // deletes itself (now, or when a drain on the stack unwinds)
    poller_ = nullptr;
  }
  if (polling_ref_) {
    polling_ref_ = false;
    Unref();
  }
  for (auto& l : links_) bpf_link__destroy(l.link);
  links_.clear();
  if (obj_ != nullptr) {
    bpf_object__close(obj_);
    obj_ = nullptr;
  }
  if (hook_registered_) {
    hook_registered_ = false;
    napi_remove_env_cleanup_hook(env_, &BpfObjectWrap::CleanupHook, this);
  }
}

Napi::Value BpfObjectWrap::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (obj_ != nullptr) throw Napi::Error::New(env, "load: this object is already loaded (" + path_ + ")");
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "load: objectPath must be a string");
  path_ = info[0].As<Napi::String>().Utf8Value();
  Napi::Object options = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);

  LibbpfLogCapture log;
  bpf_object* obj = bpf_object__open_file(path_.c_str(), nullptr);
  if (obj == nullptr) {
    int err = errno;
    throw Napi::Error::New(env, WithLog("cannot open BPF object '" + path_ + "': " + ErrnoText(err), log));
  }
  obj_ = obj;  // from here on, a throw leaves the object for Release() via close()/finalizer
  try {
    Napi::Value skip = options.Get("skipPrograms");
    if (skip.IsArray()) {
      Napi::Array names = skip.As<Napi::Array>();
      for (uint32_t i = 0; i < names.Length(); i++) {
        std::string name = names.Get(i).ToString().Utf8Value();
        bpf_program__set_autoload(FindProgram(env, name), false);
      }
    }
    Napi::Value sizes = options.Get("mapSizes");
    if (sizes.IsObject()) {
      Napi::Object o = sizes.As<Napi::Object>();
      Napi::Array names = o.GetPropertyNames();
      for (uint32_t i = 0; i < names.Length(); i++) {
        std::string name = names.Get(i).ToString().Utf8Value();
        bpf_map* map = FindMap(env, name);
        Napi::Value v = o.Get(name);
        double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
        if (d < 1 || d > 4294967295.0 || static_cast<double>(static_cast<uint32_t>(d)) != d) {
          throw Napi::RangeError::New(env, "mapSizes." + name + ": expected an integer 1..2^32-1, got " +
                                               v.ToString().Utf8Value());
        }
        uint32_t entries = static_cast<uint32_t>(d);
        if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF) {
          uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
          if (!IsPowerOfTwo(entries) || entries < page) {
            throw Napi::RangeError::New(env, "mapSizes." + name + ": a ring buffer's size must be a power of two >= " +
                                                 std::to_string(page) + " bytes, got " + std::to_string(entries));
          }
        }
        int err = bpf_map__set_max_entries(map, entries);
        if (err != 0) throw Napi::Error::New(env, "mapSizes." + name + ": " + ErrnoText(err));
      }
    }
    Napi::Value rodata = options.Get("rodata");
    if (rodata.IsObject()) SetRodataGlobals(env, obj_, path_, rodata.As<Napi::Object>());

    int err = bpf_object__load(obj_);
    if (err != 0) {
      throw Napi::Error::New(env, WithLog("cannot load BPF object '" + path_ + "': " + ErrnoText(err), log));
    }
  } catch (...) {
    bpf_object__close(obj_);
    obj_ = nullptr;
    throw;
  }
  if (napi_add_env_cleanup_hook(env_, &BpfObjectWrap::CleanupHook, this) == napi_ok) hook_registered_ = true;
  return env.Undefined();
}

bpf_object* BpfObjectWrap::Loaded(Napi::Env env) const {
  if (obj_ == nullptr) {
    throw Napi::Error::New(env, path_.empty() ? "BPF object is not loaded" : "BPF object " + path_ + " is closed");
  }
  return obj_;
}

bpf_program* BpfObjectWrap::FindProgram(Napi::Env env, const std::string& name) const {
  bpf_object* obj = Loaded(env);
  bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
  if (prog != nullptr) return prog;
  std::string known;
  bpf_object__for_each_program(prog, obj) known += (known.empty() ? "" : ", ") + std::string(bpf_program__name(prog));
  throw Napi::Error::New(env, "no BPF program named '" + name + "' in " + path_ + " (programs: " + known + ")");
}

bpf_map* BpfObjectWrap::FindMap(Napi::Env env, const std::string& name) const {
  bpf_object* obj = Loaded(env);
  bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
  if (map != nullptr) return map;
  std::string known;
  bpf_object__for_each_map(map, obj) known += (known.empty() ? "" : ", ") + std::string(bpf_map__name(map));
  throw Napi::Error::New(env, "no BPF map named '" + name + "' in " + path_ + " (maps: " + known + ")");
}

Napi::Object BpfObjectWrap::AttachOne(Napi::Env env, bpf_program* prog) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("program", bpf_program__name(prog));
  r.Set("section", bpf_program__section_name(prog));
  for (const auto& l : links_) {
    if (l.prog == prog) {
      r.Set("attached", true);
      return r;
    }
  }
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach(prog);
  if (link == nullptr) {
    int err = errno;
    std::string why = ErrnoText(err);
    std::string detail = log.LastLine();
    r.Set("attached", false);
    r.Set("error", detail.empty() ? why : why + ": " + detail);
    return r;
  }
  links_.push_back({prog, link});
  r.Set("attached", true);
  return r;
}

Napi::Value BpfObjectWrap::AttachAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* obj = Loaded(env);
  Napi::Array results = Napi::Array::New(env);
  bpf_program* prog;
  uint32_t i = 0;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;  // skipped on purpose (skipPrograms)
    results.Set(i++, AttachOne(env, prog));
  }
  return results;
}

Napi::Value BpfObjectWrap::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0].ToString().Utf8Value());
  if (!bpf_program__autoload(prog)) {
    throw Napi::Error::New(env, std::string("attach: program '") + bpf_program__name(prog) +
                                    "' was not loaded (skipPrograms)");
  }
  return AttachOne(env, prog);
}

Napi::Value BpfObjectWrap::Programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* obj = Loaded(env);
  Napi::Array out = Napi::Array::New(env);
  bpf_program* prog;
  uint32_t i = 0;
  bpf_object__for_each_program(prog, obj) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("name", bpf_program__name(prog));
    p.Set("section", bpf_program__section_name(prog));
    p.Set("loaded", bpf_program__fd(prog) >= 0);
    bool attached = false;
    for (const auto& l : links_) attached = attached || l.prog == prog;
    p.Set("attached", attached);
    out.Set(i++, p);
  }
  return out;
}

Napi::Value BpfObjectWrap::ProgramStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* obj = Loaded(env);
  Napi::Array out = Napi::Array::New(env);
  bpf_program* prog;
  uint32_t i = 0;
  bpf_object__for_each_program(prog, obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info pi = {};
    __u32 len = sizeof pi;
    int err = bpf_obj_get_info_by_fd(fd, &pi, &len);
    if (err != 0) {
      throw Napi::Error::New(env, std::string("programStats(") + bpf_program__name(prog) + "): " + ErrnoText(err));
    }
    Napi::Object s = Napi::Object::New(env);
    s.Set("program", bpf_program__name(prog));
    s.Set("id", pi.id);
    s.Set("runTimeNs", static_cast<double>(pi.run_time_ns));
    s.Set("runCount", static_cast<double>(pi.run_cnt));
    s.Set("recursionMisses", static_cast<double>(pi.recursion_misses));
    out.Set(i++, s);
  }
  return out;
}

Napi::Value BpfObjectWrap::StartRingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].ToString().Utf8Value();
  bpf_map* map = FindMap(env, name);
  if (bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF) {
    throw Napi::Error::New(env, "startRingBuffer: map '" + name + "' is not a BPF_MAP_TYPE_RINGBUF");
  }
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "startRingBuffer: onBatch must be a function");
  if (poller_ != nullptr) {
    throw Napi::Error::New(env, "startRingBuffer: already polling '" + poller_map_ + "' on this object");
  }
  uint32_t flush_ms = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 50;
  bool keep_alive = !info[3].IsBoolean() || info[3].As<Napi::Boolean>().Value();
  poller_ = RingBufferPoller::Start(env, bpf_map__fd(map), name, info[1].As<Napi::Function>(), flush_ms, keep_alive);
  poller_map_ = name;
  // Polling must not stop because the JS object became unreachable: hold it until close().
  Ref();
  polling_ref_ = true;
  return env.Undefined();
}

Napi::Value BpfObjectWrap::PollNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Loaded(env);
  if (poller_ == nullptr) throw Napi::Error::New(env, "pollNow: call startRingBuffer first");
  return Napi::Number::New(env, static_cast<double>(poller_->PollNow()));
}

Napi::Value BpfObjectWrap::RingBufferStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (poller_ == nullptr) return env.Undefined();
  const sockeye::RingBufferStats& s = poller_->stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("records", static_cast<double>(s.records));
  o.Set("batches", static_cast<double>(s.batches));
  o.Set("bytes", static_cast<double>(s.bytes));
  o.Set("wakeups", static_cast<double>(s.wakeups));
  o.Set("timerDrains", static_cast<double>(s.timer_drains));
  o.Set("consumeErrors", static_cast<double>(s.consume_errors));
  return o;
}

Napi::Value BpfObjectWrap::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

}  // namespace sockeye
