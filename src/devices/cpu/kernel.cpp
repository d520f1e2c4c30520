#include "devices/cpu/kernel.hpp"

namespace sluice::cpu {

Tensor WeightCache::get(const std::string& key, const std::function<Tensor()>& make) {
  std::lock_guard lock(mutex_);
  auto it = tensors_.find(key);
  if (it != tensors_.end()) return it->second;
  // Packing runs under the lock: plans of one compiled model are built one at a time anyway, and a
  // weight is packed once however many plans ask for it.
  Tensor packed = make();
  bytes_ += packed.byte_size();
  tensors_.emplace(key, packed);
  return packed;
}

size_t WeightCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

const KernelRegistry& KernelRegistry::instance() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_dnnl_kernels(r);
    register_elementwise_kernels(r);
    register_data_movement_kernels(r);
    register_attention_kernels(r);
    return r;
  }();
  return registry;
}

void KernelRegistry::add(const std::string& domain, const std::string& op_type, KernelEntry entry) {
  entries_[domain + "::" + op_type].push_back(std::move(entry));
}

const std::vector<KernelEntry>* KernelRegistry::find(const std::string& domain,
                                                     const std::string& op_type) const {
  auto it = entries_.find(domain + "::" + op_type);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<dnnl_exec_arg_t> args_of(const std::unordered_map<int, dnnl::memory>& args) {
  std::vector<dnnl_exec_arg_t> out;
  out.reserve(args.size());
  for (const auto& [index, memory] : args) out.push_back({index, memory.get()});
  return out;
}

void execute(const dnnl::primitive& primitive, const dnnl::stream& stream,
             const std::vector<dnnl_exec_arg_t>& args) {
  dnnl::error::wrap_c_api(
      dnnl_primitive_execute(primitive.get(), stream.get(), static_cast<int>(args.size()), args.data()),
      "could not execute a primitive");
}

dnnl::memory::data_type dnnl_type(ElementType type) {
  using dt = dnnl::memory::data_type;
  switch (type) {
    case ElementType::f32: return dt::f32;
    case ElementType::f16: return dt::f16;
    case ElementType::bf16: return dt::bf16;
    case ElementType::i32: return dt::s32;
    case ElementType::i8: return dt::s8;
    case ElementType::u8: return dt::u8;
    default: throw_error("oneDNN has no element type ", to_string(type));
  }
}

dnnl::memory::desc plain_md(ElementType type, const Shape& shape) {
  dnnl::memory::dims dims(shape.begin(), shape.end());
  dnnl::memory::dims strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return dnnl::memory::desc(dims, dnnl_type(type), strides);
}

}  // namespace sluice::cpu
