// Entry points of the ONNX frontend: protobuf parsing, opset imports and model-local functions.
#include "frontend/onnx_reader.hpp"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/onnx-data_pb.h>  // onnx-data.pb.h with ONNX_API defined
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <vector>

#include "frontend/onnx_graph_builder.hpp"
#include "frontend/onnx_internal.hpp"

namespace sluice::frontend {

namespace {

using detail::with_context;
namespace io = google::protobuf::io;

// protobuf refuses messages over 2 GiB whatever the limit; below that, the limit is raised from the
// old 64 MiB default so that large models parse.
bool parse_message(google::protobuf::MessageLite& message, io::CodedInputStream& in) {
  in.SetTotalBytesLimit(INT_MAX);
  return message.ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
}

std::map<std::string, int64_t> opset_imports(const onnx::ModelProto& model) {
  std::map<std::string, int64_t> imports;
  for (const auto& import : model.opset_import()) {
    std::string domain = detail::normalize_domain(import.domain());
    auto [it, inserted] = imports.emplace(domain, import.version());
    SLUICE_CHECK(inserted || it->second == import.version(), "the opset import of domain '",
                 domain.empty() ? "ai.onnx" : domain, "' appears twice, with versions ", it->second, " and ",
                 import.version());
  }
  if (imports.empty()) {
    SLUICE_CHECK(model.ir_version() < 3, "the model (IR version ", model.ir_version(),
                 ") imports no opset (a truncated file?)");
    imports[""] = 1;  // IR version < 3: opset 1 is implied
  }
  return imports;
}

std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> functions(
    const onnx::ModelProto& model) {
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> found;
  for (const auto& function : model.functions()) {
    std::pair<std::string, std::string> key{detail::normalize_domain(function.domain()), function.name()};
    SLUICE_CHECK(!function.name().empty(), "a model-local function has no name");
    SLUICE_CHECK(found.emplace(key, &function).second, "model-local function '", function.name(),
                 "' of domain '", key.first, "' is defined twice (overloads are not supported)");
  }
  return found;
}

std::shared_ptr<graph::Graph> build_model(onnx::ModelProto& model, const std::string& base_dir) {
  SLUICE_CHECK(model.has_graph(), "not a valid ONNX model (it has no graph)");
  detail::ModelContext context;
  context.base_dir = base_dir;
  context.opset_imports = opset_imports(model);
  context.functions = functions(model);
  auto graph = std::make_shared<graph::Graph>();
  graph->name = model.graph().name();
  graph->opset_imports = context.opset_imports;
  detail::GraphBuilder(context, *graph, nullptr, nullptr).build(*model.mutable_graph());
  return graph;
}

// Closes a file descriptor when leaving scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Parses a whole file into `message` without holding its bytes twice. Errors name no file (the caller
// adds it); `kind` says what the file should be ("ONNX model", "TensorProto").
void parse_file(const std::string& path, google::protobuf::MessageLite& message, const char* kind) {
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  SLUICE_CHECK(file.get() >= 0, "cannot open: ", std::strerror(errno));
  struct stat info {};
  SLUICE_CHECK(::fstat(file.get(), &info) == 0, "cannot read the file's size: ", std::strerror(errno));
  SLUICE_CHECK(S_ISREG(info.st_mode), "not a regular file");
  SLUICE_CHECK(info.st_size > 0, "not a valid ", kind, " (the file is empty)");
  SLUICE_CHECK(info.st_size <= INT_MAX, "the file is ", info.st_size,
               " bytes; protobuf cannot parse more than 2 GiB (store the weights as external data)");
  io::FileInputStream stream(file.get());
  io::CodedInputStream in(&stream);
  bool parsed = parse_message(message, in);
  SLUICE_CHECK(stream.GetErrno() == 0, "reading failed: ", std::strerror(stream.GetErrno()));
  SLUICE_CHECK(parsed, "not a valid ", kind, " (protobuf parse failed)");
}

void parse_bytes(std::span<const uint8_t> bytes, google::protobuf::MessageLite& message, const char* kind) {
  SLUICE_CHECK(!bytes.empty(), "not a valid ", kind, " (the input is empty)");
  SLUICE_CHECK(bytes.size() <= static_cast<size_t>(INT_MAX), "the input is ", bytes.size(),
               " bytes; protobuf cannot parse more than 2 GiB (store the weights as external data)");
  io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  SLUICE_CHECK(parse_message(message, in), "not a valid ", kind, " (protobuf parse failed)");
}

std::string folder_of(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  return folder.empty() ? "." : folder;
}

Tensor convert_tensor(const onnx::TensorProto& proto, const std::string& base_dir) {
  return detail::tensor_from_proto(proto, base_dir, "tensor '" + proto.name() + "'");
}

}  // namespace

std::shared_ptr<graph::Graph> read_onnx_model(std::span<const uint8_t> bytes, const std::string& base_dir,
                                              const std::string& source) {
  return with_context(source, [&] {
    onnx::ModelProto model;
    parse_bytes(bytes, model, "ONNX model");
    return build_model(model, base_dir);
  });
}

std::shared_ptr<graph::Graph> read_onnx_file(const std::string& path) {
  return with_context(path, [&] {
    onnx::ModelProto model;
    parse_file(path, model, "ONNX model");
    return build_model(model, folder_of(path));
  });
}

Tensor read_tensor_proto(std::span<const uint8_t> bytes, const std::string& source) {
  return with_context(source, [&] {
    onnx::TensorProto proto;
    parse_bytes(bytes, proto, "TensorProto");
    return convert_tensor(proto, "");
  });
}

Tensor read_tensor_proto_file(const std::string& path) {
  return with_context(path, [&] {
    onnx::TensorProto proto;
    parse_file(path, proto, "TensorProto");
    return convert_tensor(proto, folder_of(path));
  });
}

namespace {

Tensor sequence_from_proto(const onnx::SequenceProto& proto, ElementType element_type,
                           const std::string& base_dir) {
  SLUICE_CHECK(proto.elem_type() == onnx::SequenceProto::TENSOR ||
                   (proto.elem_type() == onnx::SequenceProto::UNDEFINED && proto.tensor_values_size() == 0),
               "the SequenceProto holds elements of kind ", proto.elem_type(),
               "; only tensors are supported");
  std::vector<Tensor> items;
  for (int i = 0; i < proto.tensor_values_size(); ++i) {
    items.push_back(convert_tensor(proto.tensor_values(i), base_dir));
  }
  if (!items.empty() && element_type == ElementType::undefined) element_type = items[0].type();
  return Tensor::sequence(element_type, std::move(items));
}

}  // namespace

Tensor read_value_proto_file(const std::string& path, bool sequence, bool optional,
                             ElementType element_type) {
  if (!sequence && !optional) return read_tensor_proto_file(path);
  return with_context(path, [&] {
    const std::string base_dir = folder_of(path);
    if (!optional) {
      onnx::SequenceProto proto;
      parse_file(path, proto, "SequenceProto");
      return sequence_from_proto(proto, element_type, base_dir);
    }
    onnx::OptionalProto proto;
    parse_file(path, proto, "OptionalProto");
    if (sequence) {
      SLUICE_CHECK(!proto.has_tensor_value(), "the OptionalProto holds a tensor; expected a sequence");
      return proto.has_sequence_value() ? sequence_from_proto(proto.sequence_value(), element_type, base_dir)
                                        : Tensor();
    }
    SLUICE_CHECK(!proto.has_sequence_value(), "the OptionalProto holds a sequence; expected a tensor");
    return proto.has_tensor_value() ? convert_tensor(proto.tensor_value(), base_dir) : Tensor();
  });
}

}  // namespace sluice::frontend
