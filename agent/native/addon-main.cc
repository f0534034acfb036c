// sockeye_native: generic libbpf plumbing for Node (see docs/native-addon.md).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <napi.h>

#include <cerrno>

#include "bpf-object-wrap.h"
#include "errno-text.h"
#include "libbpf-log.h"

namespace {

// BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): run-time stats stay on while the returned fd is open.
Napi::Value EnableStatsFd(const Napi::CallbackInfo& info) {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) {
    throw Napi::Error::New(info.Env(), "bpf_enable_stats(BPF_STATS_RUN_TIME): " + sockeye::ErrnoText(errno));
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n <= 0) throw Napi::Error::New(info.Env(), "libbpf_num_possible_cpus: " + sockeye::ErrnoText(n));
  return Napi::Number::New(info.Env(), n);
}

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sockeye::InstallLibbpfLogger();
  exports.Set("BpfObject", sockeye::BpfObjectWrap::Define(env));
  exports.Set("enableStatsFd", Napi::Function::New(env, EnableStatsFd));
  exports.Set("possibleCpus", Napi::Function::New(env, PossibleCpus));
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(sockeye_native, Init)
