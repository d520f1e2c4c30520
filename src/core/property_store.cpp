#include "sluice/dev/property_store.hpp"

#include "sluice/error.hpp"

namespace sluice::dev {

namespace {
std::string join_names(const std::map<std::string, Any>& values) {
  std::string out;
  for (const auto& [name, value] : values) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}
}  // namespace

PropertyStore::PropertyStore(std::string device, std::map<std::string, Any> defaults)
    : device_(std::move(device)), values_(std::move(defaults)) {
  for (const auto& [name, value] : values_) {
    SLUICE_CHECK(find_property_info(name) != nullptr, "device ", device_, " declares unknown property ",
                 name);
  }
}

void PropertyStore::set(const AnyMap& properties) {
  std::map<std::string, Any> updated = values_;
  for (const auto& [name, value] : properties) {
    const PropertyInfo* info = find_property_info(name);
    SLUICE_CHECK(info != nullptr && values_.count(name), "unknown property '", name, "' for device ", device_,
                 "; supported: ", join_names(values_));
    SLUICE_CHECK(!info->read_only, "property ", name, " of device ", device_, " is read-only");
    try {
      updated[name] = normalize_property(*info, value);
    } catch (const Error& e) {
      throw_error(device_, ": ", e.what());
    }
  }
  values_ = std::move(updated);
  for (const auto& [name, value] : properties) explicitly_set_.insert(name);
}

PropertyStore PropertyStore::with(const AnyMap& properties) const {
  PropertyStore copy = *this;
  copy.set(properties);
  return copy;
}

const Any& PropertyStore::get(const std::string& name) const {
  auto it = values_.find(name);
  SLUICE_CHECK(it != values_.end(), "unknown property '", name, "' for device ", device_,
               "; supported: ", join_names(values_));
  return it->second;
}

void PropertyStore::set_computed(const std::string& name, Any value) { values_[name] = std::move(value); }

std::vector<std::string> PropertyStore::names() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : values_) out.push_back(name);
  return out;
}

}  // namespace sluice::dev
