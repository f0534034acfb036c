// Map access for BpfObjectWrap: lookup/update/delete by name, per-CPU lookups, map descriptions.
// Sizes are checked here first so JS misuse gets an Error naming the map and the expected size.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bpf-object-wrap.h"
#include "errno-text.h"

namespace sockeye {

namespace {

bool IsPerCpu(bpf_map* map) {
  switch (bpf_map__type(map)) {
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
      return true;
    default:
      return false;
  }
}

bool HasNoElements(bpf_map* map) {
  switch (bpf_map__type(map)) {
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_USER_RINGBUF:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      return true;
    default:
      return false;
  }
}

size_t PerCpuStride(bpf_map* map) { return (bpf_map__value_size(map) + 7) & ~static_cast<size_t>(7); }

std::string MapTypeName(bpf_map* map) {
  const char* s = libbpf_bpf_map_type_str(bpf_map__type(map));
  return s != nullptr ? s : std::to_string(bpf_map__type(map));
}

Napi::Buffer<uint8_t> BufferArg(Napi::Env env, const char* op, const char* what, const Napi::Value& v) {
  if (!v.IsBuffer()) throw Napi::TypeError::New(env, std::string(op) + ": " + what + " must be a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}

}  // namespace

void BpfObjectWrap::CheckKey(Napi::Env env, const char* op, bpf_map* map, const Napi::Value& key) const {
  if (HasNoElements(map)) {
    throw Napi::Error::New(env, std::string(op) + "(" + bpf_map__name(map) + "): a " + MapTypeName(map) +
                                    " map has no elements to look up or update");
  }
  auto buf = BufferArg(env, op, "key", key);
  if (buf.Length() != bpf_map__key_size(map)) {
    throw Napi::RangeError::New(env, std::string(op) + "(" + bpf_map__name(map) + "): key is " +
                                         std::to_string(buf.Length()) + " bytes, expected " +
                                         std::to_string(bpf_map__key_size(map)));
  }
}

Napi::Value BpfObjectWrap::Maps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* obj = Loaded(env);
  Napi::Array out = Napi::Array::New(env);
  bpf_map* map;
  uint32_t i = 0;
  bpf_object__for_each_map(map, obj) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("name", bpf_map__name(map));
    m.Set("type", MapTypeName(map));
    m.Set("keySize", bpf_map__key_size(map));
    m.Set("valueSize", bpf_map__value_size(map));
    m.Set("maxEntries", bpf_map__max_entries(map));
    m.Set("perCpu", IsPerCpu(map));
    out.Set(i++, m);
  }
  return out;
}

Napi::Value BpfObjectWrap::MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0].ToString().Utf8Value());
  CheckKey(env, "mapUpdate", map, info[1]);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  auto value = BufferArg(env, "mapUpdate", "value", info[2]);
  size_t vsize = bpf_map__value_size(map);
  std::vector<uint8_t> expanded;
  const uint8_t* data = value.Data();
  size_t len = value.Length();
  if (IsPerCpu(map) && len == vsize) {
    // One value for a per-CPU map: the same value on every possible CPU.
    int ncpus = libbpf_num_possible_cpus();
    size_t stride = PerCpuStride(map);
    expanded.assign(stride * ncpus, 0);
    for (int c = 0; c < ncpus; c++) memcpy(expanded.data() + c * stride, data, vsize);
    data = expanded.data();
    len = expanded.size();
  } else if (IsPerCpu(map) && len != PerCpuStride(map) * libbpf_num_possible_cpus()) {
    throw Napi::RangeError::New(env, std::string("mapUpdate(") + bpf_map__name(map) + "): value is " +
                                         std::to_string(len) + " bytes, expected " + std::to_string(vsize) +
                                         " (one value for all CPUs) or " +
                                         std::to_string(PerCpuStride(map) * libbpf_num_possible_cpus()) +
                                         " (one 8-aligned value per possible CPU)");
  } else if (!IsPerCpu(map) && len != vsize) {
    throw Napi::RangeError::New(env, std::string("mapUpdate(") + bpf_map__name(map) + "): value is " +
                                         std::to_string(len) + " bytes, expected " + std::to_string(vsize));
  }
  int err = bpf_map__update_elem(map, key.Data(), key.Length(), data, len, BPF_ANY);
  if (err != 0) throw Napi::Error::New(env, std::string("mapUpdate(") + bpf_map__name(map) + "): " + ErrnoText(err));
  return env.Undefined();
}

Napi::Value BpfObjectWrap::MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0].ToString().Utf8Value());
  CheckKey(env, "mapDelete", map, info[1]);
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  int err = bpf_map__delete_elem(map, key.Data(), key.Length(), 0);
  if (err == -ENOENT) return Napi::Boolean::New(env, false);
  if (err != 0) throw Napi::Error::New(env, std::string("mapDelete(") + bpf_map__name(map) + "): " + ErrnoText(err));
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfObjectWrap::MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0].ToString().Utf8Value());
  CheckKey(env, "mapLookup", map, info[1]);
  if (IsPerCpu(map)) {
    throw Napi::Error::New(env, std::string("mapLookup(") + bpf_map__name(map) + "): per-CPU map, use mapLookupPerCpu");
  }
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  auto value = Napi::Buffer<uint8_t>::New(env, bpf_map__value_size(map));
  int err = bpf_map__lookup_elem(map, key.Data(), key.Length(), value.Data(), value.Length(), 0);
  if (err == -ENOENT) return env.Undefined();
  if (err != 0) throw Napi::Error::New(env, std::string("mapLookup(") + bpf_map__name(map) + "): " + ErrnoText(err));
  return value;
}

Napi::Value BpfObjectWrap::MapLookupPerCpu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0].ToString().Utf8Value());
  CheckKey(env, "mapLookupPerCpu", map, info[1]);
  if (!IsPerCpu(map)) {
    throw Napi::Error::New(env, std::string("mapLookupPerCpu(") + bpf_map__name(map) + "): not a per-CPU map (" +
                                    MapTypeName(map) + "), use mapLookup");
  }
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) throw Napi::Error::New(env, "mapLookupPerCpu: cannot count possible CPUs: " + ErrnoText(ncpus));
  size_t stride = PerCpuStride(map);
  std::vector<uint8_t> all(stride * ncpus);
  int err = bpf_map__lookup_elem(map, key.Data(), key.Length(), all.data(), all.size(), 0);
  Napi::Array out = Napi::Array::New(env);
  if (err == -ENOENT) return out;  // a per-CPU hash without this key
  if (err != 0) {
    throw Napi::Error::New(env, std::string("mapLookupPerCpu(") + bpf_map__name(map) + "): " + ErrnoText(err));
  }
  for (int c = 0; c < ncpus; c++) {
    out.Set(c, Napi::Buffer<uint8_t>::Copy(env, all.data() + c * stride, bpf_map__value_size(map)));
  }
  return out;
}

}  // namespace sockeye
