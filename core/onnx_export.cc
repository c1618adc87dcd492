#include "core/onnx_export.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "onnx/onnx_pb.h"

namespace mlpd {
namespace {

constexpr int64_t kIrVersion = 8;
constexpr int64_t kOpsetVersion = 13;

// The ONNX operator of each activation; identity needs no node.
const char* ActivationOperator(Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return "Relu";
    case Activation::kTanh:
      return "Tanh";
    case Activation::kSigmoid:
      return "Sigmoid";
    case Activation::kIdentity:
      break;
  }
  return nullptr;
}

// SetFloatTensorType declares a float [N, columns] value with a symbolic batch dimension, so
// the exported model accepts any number of rows.
void SetFloatTensorType(int64_t columns, onnx::ValueInfoProto* value) {
  onnx::TypeProto::Tensor* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  tensor->mutable_shape()->add_dim()->set_dim_param("N");
  tensor->mutable_shape()->add_dim()->set_dim_value(columns);
}

// AddInitializer stores `count` floats as raw little-endian bytes, the compact form every ONNX
// runtime reads.
void AddInitializer(const std::string& name, std::vector<int64_t> dims, const float* values,
                    int64_t count, onnx::GraphProto* graph) {
  onnx::TensorProto* tensor = graph->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) tensor->add_dims(dim);
  tensor->set_raw_data(std::string(reinterpret_cast<const char*>(values),
                                   static_cast<size_t>(count) * sizeof(float)));
}

onnx::NodeProto* AddNode(const std::string& name, const std::string& op_type,
                         std::vector<std::string> inputs, const std::string& output,
                         onnx::GraphProto* graph) {
  onnx::NodeProto* node = graph->add_node();
  node->set_name(name);
  node->set_op_type(op_type);
  for (std::string& input : inputs) node->add_input(std::move(input));
  node->add_output(output);
  return node;
}

void AddIntAttribute(const std::string& name, int64_t value, onnx::NodeProto* node) {
  onnx::AttributeProto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INT);
  attribute->set_i(value);
}

}  // namespace

absl::StatusOr<std::string> ExportOnnx(const Model& model) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ONNX raw_data is little-endian");
  const ModelSpec& spec = model.spec();
  const std::vector<float> parameters = model.GetParameters();
  if (static_cast<int64_t>(parameters.size()) != ParameterCount(spec)) {
    return absl::InternalError(
        absl::StrFormat("the model returned %d parameters, its spec %s "
                        "needs %d",
                        parameters.size(), LayerSizesString(spec), ParameterCount(spec)));
  }

  onnx::ModelProto onnx_model;
  onnx_model.set_ir_version(kIrVersion);
  onnx_model.set_producer_name("mlpd");
  onnx::OperatorSetIdProto* opset = onnx_model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpsetVersion);

  onnx::GraphProto* graph = onnx_model.mutable_graph();
  graph->set_name("mlp");
  graph->set_doc_string(absl::StrCat("MLP ", LayerSizesString(spec), ", loss ",
                                     LossKindName(spec.loss.kind),
                                     "; y equals mlpd's Predict outputs"));
  SetFloatTensorType(spec.input_size, graph->add_input());
  graph->mutable_input(0)->set_name("x");

  const bool softmax = spec.loss.kind == LossKind::kCrossEntropy;
  const size_t layer_count = spec.layers.size();
  std::string previous = "x";
  int64_t previous_units = spec.input_size;
  const float* cursor = parameters.data();
  for (size_t l = 0; l < layer_count; ++l) {
    const LayerSpec& layer = spec.layers[l];
    const std::string prefix = absl::StrCat("layer", l);
    const std::string weight = prefix + ".weight";
    const std::string bias = prefix + ".bias";
    AddInitializer(weight, {layer.units, previous_units}, cursor, layer.units * previous_units,
                   graph);
    cursor += layer.units * previous_units;
    AddInitializer(bias, {layer.units}, cursor, layer.units, graph);
    cursor += layer.units;

    const char* activation = ActivationOperator(layer.activation);
    // The graph's last node writes "y"; every other value is named after its layer.
    const bool last_layer = l + 1 == layer_count;
    const std::string linear =
        last_layer && activation == nullptr && !softmax ? "y" : prefix + ".linear";
    onnx::NodeProto* gemm =
        AddNode(prefix + ".gemm", "Gemm", {previous, weight, bias}, linear, graph);
    // w is stored [out, in], so the product x w^T needs transB.
    AddIntAttribute("transB", 1, gemm);
    previous = linear;
    if (activation != nullptr) {
      const std::string activated = last_layer && !softmax ? "y" : prefix + ".activation";
      AddNode(absl::StrCat(prefix, ".", ActivationName(layer.activation)), activation, {previous},
              activated, graph);
      previous = activated;
    }
    previous_units = layer.units;
  }
  if (softmax) {
    onnx::NodeProto* node = AddNode("softmax", "Softmax", {previous}, "y", graph);
    AddIntAttribute("axis", 1, node);
  }
  SetFloatTensorType(spec.output_size(), graph->add_output());
  graph->mutable_output(0)->set_name("y");

  std::string bytes;
  if (!onnx_model.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the ONNX model");
  }
  return bytes;
}

}  // namespace mlpd
