// CompiledModel: a model prepared for one device, from which infer requests are created.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sluice/infer_request.hpp"
#include "sluice/model.hpp"
#include "sluice/properties.hpp"

namespace sluice {

namespace dev {
class ICompiledModel;
}

// A compiled model is a handle (copies share it). Thread-safe: requests may be created and properties
// read from many threads at once. Requests keep the compiled model alive.
class CompiledModel {
 public:
  CompiledModel() = default;
  explicit CompiledModel(std::shared_ptr<dev::ICompiledModel> impl);

  InferRequest create_infer_request() const;
  const std::vector<PortInfo>& inputs() const;
  const std::vector<PortInfo>& outputs() const;

  // Reads a property (the resolved value of hints: NUM_STREAMS, INFERENCE_NUM_THREADS, ...). Throws
  // sluice::Error listing the supported properties when the name is unknown.
  Any get_property(const std::string& name) const;
  template <class T, props::Access A> T get_property(const props::Property<T, A>& key) const {
    return get_property(std::string(key.name)).template as<T>();
  }
  void set_property(const AnyMap& properties);

  const std::shared_ptr<dev::ICompiledModel>& impl() const { return impl_; }

 private:
  std::shared_ptr<dev::ICompiledModel> impl_;
};

}  // namespace sluice
