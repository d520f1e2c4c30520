#include "tools/sluice/tool_util.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "sluice/error.hpp"

namespace sluice::tool {

std::string one_line(std::string_view message) {
  std::string line;
  size_t pos = 0;
  while (pos < message.size()) {
    size_t end = std::min(message.find('\n', pos), message.size());
    std::string_view part = message.substr(pos, end - pos);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.remove_prefix(1);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.remove_suffix(1);
    if (!part.empty()) {
      if (!line.empty()) line += line.back() == ':' ? " " : "; ";
      line += part;
    }
    pos = end + 1;
  }
  return line;
}

void print_error(std::string_view message) { std::cerr << "sluice: error: " << one_line(message) << '\n'; }

std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& what) {
  size_t eq = text.find('=');
  SLUICE_CHECK(eq != std::string::npos && eq > 0, what, " '", text, "': expected KEY=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::map<std::string, std::string> parse_named(const std::vector<std::string>& items,
                                               const std::string& flag) {
  std::map<std::string, std::string> named;
  for (const std::string& item : items) {
    auto [name, value] = split_key_value(item, flag);
    SLUICE_CHECK(named.emplace(name, value).second, flag, ": '", name, "' is given twice");
  }
  return named;
}

AnyMap parse_properties(const std::vector<std::string>& items) {
  AnyMap properties;
  for (const auto& [key, value] : parse_named(items, "-p")) properties.emplace(key, Any(value));
  return properties;
}

std::string choose_device(const Core& core, const std::string& requested) {
  if (!requested.empty()) return requested;
  std::vector<std::string> devices = core.available_devices();
  if (std::find(devices.begin(), devices.end(), "CPU") != devices.end()) return "CPU";
  return "REF";
}

Shape parse_dims(std::string text, const std::string& what) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  Shape shape;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    int64_t extent = -1;
    try {
      extent = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SLUICE_CHECK(used == item.size() && extent >= 0, what,
                 ": expected non-negative integer dimensions separated by ',' (e.g. 1,3,224,224)");
    shape.push_back(extent);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return shape;
}

std::string port_names(const std::vector<PortInfo>& ports) {
  std::string names;
  for (const PortInfo& port : ports) names += (names.empty() ? "'" : ", '") + port.name + "'";
  return names.empty() ? "none" : names;
}

const PortInfo& find_input(const Model& model, const std::string& name, const std::string& flag) {
  for (const PortInfo& port : model.inputs()) {
    if (port.name == name) return port;
  }
  throw_error(flag, ": the model has no input '", name, "' (inputs: ", port_names(model.inputs()), ")");
}

std::string sanitize_file_name(const std::string& name) {
  std::string file = name;
  for (char& c : file) {
    bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (!keep) c = '_';
  }
  if (file.find_first_not_of('.') == std::string::npos) file = "_" + file;
  return file;
}

}  // namespace sluice::tool
