#include "rodata-globals.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "errno-text.h"

namespace sockeye {

namespace {

struct GlobalVar {
  std::string name;
  uint32_t offset;
  uint32_t size;
  bool is_integer;  // int, bool or enum: accepts number/bigint/boolean
  bool is_signed;
};

bpf_map* FindRodataMap(bpf_object* obj) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    const char* name = bpf_map__name(map);
    size_t len = strlen(name);
    // libbpf names internal maps "<object prefix>.rodata".
    if (bpf_map__is_internal(map) && len >= 7 && strcmp(name + len - 7, ".rodata") == 0) return map;
  }
  return nullptr;
}

std::vector<GlobalVar> ListRodataVars(const btf* btf) {
  std::vector<GlobalVar> vars;
  int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) return vars;
  const btf_type* sec = btf__type_by_id(btf, sec_id);
  const btf_var_secinfo* info = btf_var_secinfos(sec);
  for (int i = 0; i < btf_vlen(sec); i++, info++) {
    const btf_type* var = btf__type_by_id(btf, info->type);
    if (var == nullptr || !btf_is_var(var)) continue;
    GlobalVar g{btf__name_by_offset(btf, var->name_off), info->offset, info->size, false, false};
    int resolved = btf__resolve_type(btf, var->type);
    const btf_type* t = resolved >= 0 ? btf__type_by_id(btf, resolved) : nullptr;
    if (t != nullptr && btf_is_int(t)) {
      g.is_integer = true;
      g.is_signed = (btf_int_encoding(t) & BTF_INT_SIGNED) != 0;
    } else if (t != nullptr && btf_is_enum(t)) {
      g.is_integer = true;
      g.is_signed = btf_kflag(t);
    }
    vars.push_back(g);
  }
  return vars;
}

std::string Names(const std::vector<GlobalVar>& vars) {
  std::string s;
  for (const auto& v : vars) s += (s.empty() ? "" : ", ") + v.name;
  return s.empty() ? "none" : s;
}

// Little-endian bytes of `value` for `var`, or a Napi::Error naming the key.
std::vector<uint8_t> Encode(Napi::Env env, const GlobalVar& var, Napi::Value value) {
  std::string where = "rodata." + var.name;
  std::vector<uint8_t> bytes(var.size);
  if (value.IsBuffer()) {
    auto buf = value.As<Napi::Buffer<uint8_t>>();
    if (buf.Length() != var.size) {
      throw Napi::Error::New(env, where + ": Buffer is " + std::to_string(buf.Length()) + " bytes, expected " +
                                      std::to_string(var.size));
    }
    memcpy(bytes.data(), buf.Data(), var.size);
    return bytes;
  }
  if (!var.is_integer || var.size > 8) {
    throw Napi::TypeError::New(env, where + " is a " + std::to_string(var.size) +
                                        "-byte non-integer global: pass a Buffer of that size");
  }
  uint64_t raw = 0;
  bool fits = true;
  if (value.IsBoolean()) {
    raw = value.As<Napi::Boolean>().Value() ? 1 : 0;
  } else if (value.IsNumber() || value.IsBigInt()) {
    bool negative;
    uint64_t magnitude;
    if (value.IsNumber()) {
      double d = value.As<Napi::Number>().DoubleValue();
      if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9007199254740991.0) {
        throw Napi::TypeError::New(env, where + ": " + value.ToString().Utf8Value() +
                                            " is not a safe integer (use a bigint for 64-bit values)");
      }
      negative = d < 0;
      magnitude = static_cast<uint64_t>(std::fabs(d));
    } else {
      bool lossless = false;
      int64_t s = value.As<Napi::BigInt>().Int64Value(&lossless);
      if (lossless && s < 0) {
        negative = true;
        magnitude = static_cast<uint64_t>(-(s + 1)) + 1;
      } else {
        negative = false;
        magnitude = value.As<Napi::BigInt>().Uint64Value(&lossless);
        if (!lossless) fits = false;
      }
    }
    unsigned bits = var.size * 8;
    if (negative) {
      uint64_t limit = bits >= 64 ? (1ULL << 63) : (1ULL << (bits - 1));
      fits = fits && var.is_signed && magnitude <= limit;
      raw = ~magnitude + 1;
    } else {
      uint64_t limit = var.is_signed ? (bits >= 64 ? (1ULL << 63) - 1 : (1ULL << (bits - 1)) - 1)
                                     : (bits >= 64 ? ~0ULL : (1ULL << bits) - 1);
      fits = fits && magnitude <= limit;
      raw = magnitude;
    }
  } else {
    throw Napi::TypeError::New(env, where + ": expected a number, bigint, boolean or Buffer");
  }
  if (!fits) {
    throw Napi::RangeError::New(env, where + ": " + value.ToString().Utf8Value() + " does not fit in " +
                                         std::to_string(var.size) + " byte(s) " +
                                         (var.is_signed ? "signed" : "unsigned"));
  }
  for (uint32_t i = 0; i < var.size; i++) bytes[i] = static_cast<uint8_t>(raw >> (8 * i));
  return bytes;
}

}  // namespace

void SetRodataGlobals(Napi::Env env, bpf_object* obj, const std::string& object_path, Napi::Object values) {
  Napi::Array keys = values.GetPropertyNames();
  if (keys.Length() == 0) return;
  const btf* btf = bpf_object__btf(obj);
  bpf_map* map = FindRodataMap(obj);
  std::vector<GlobalVar> vars = btf != nullptr ? ListRodataVars(btf) : std::vector<GlobalVar>{};
  size_t size = 0;
  const void* initial = map != nullptr ? bpf_map__initial_value(map, &size) : nullptr;
  // Work on a copy and write it back whole: bpf_map__initial_value is const in libbpf 1.1.
  std::vector<uint8_t> data(static_cast<const uint8_t*>(initial), static_cast<const uint8_t*>(initial) + size);
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    const GlobalVar* var = nullptr;
    for (const auto& v : vars) {
      if (v.name == key) var = &v;
    }
    if (var == nullptr || initial == nullptr) {
      throw Napi::Error::New(env, "rodata: no const volatile global named '" + key + "' in " + object_path +
                                      " (globals: " + Names(vars) + ")");
    }
    if (static_cast<size_t>(var->offset) + var->size > data.size()) {
      throw Napi::Error::New(env, "rodata." + key + ": BTF offset " + std::to_string(var->offset) +
                                      " is outside .rodata (" + std::to_string(data.size()) + " bytes)");
    }
    std::vector<uint8_t> bytes = Encode(env, *var, values.Get(key));
    memcpy(data.data() + var->offset, bytes.data(), bytes.size());
  }
  int err = bpf_map__set_initial_value(map, data.data(), data.size());
  if (err != 0) throw Napi::Error::New(env, "rodata: cannot set initial value: " + ErrnoText(err));
}

}  // namespace sockeye
