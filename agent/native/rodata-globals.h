// Sets `const volatile` globals (.rodata) of an opened, not yet loaded BPF object from JS values,
// using the object's BTF to find each variable's offset, size and signedness.
#pragma once
#include <napi.h>

struct bpf_object;

namespace sockeye {

// `values`: { name: number | bigint | boolean | Buffer }. Throws a Napi::Error naming the bad key
// (unknown global, wrong type, value out of range) before anything is written.
void SetRodataGlobals(Napi::Env env, bpf_object* obj, const std::string& object_path, Napi::Object values);

}  // namespace sockeye
