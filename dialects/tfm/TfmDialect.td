//===- TfmDialect.td - the tfm dialect definition ----------*- tablegen -*-===//
//
// The tfm dialect: graph-level tensor operations for transformer models.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TD
#define TFM_DIALECT_TD

include "mlir/IR/OpBase.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::mlir::tfm";
  let summary = "Graph-level operations for transformer models";
  let description = [{
    `tfm` is tfc's graph-level dialect. Its operations mirror the ONNX
    operators that exported transformer models use, with value semantics on
    ranked tensors. Dimensions that ONNX leaves symbolic (batch, sequence) are
    dynamic (`?`) in the types; their names are kept on the function's
    arguments and results in the `tfm.dim_params` attribute.

    Every op infers its result type from its operands and attributes, so a
    shape contradiction is reported where it arises. Results may carry a more
    static type than the inferred one (a refinement), never a contradicting
    one.

    Weights are `tfm.constant` ops holding `dense_resource` blobs: they are not
    copied into the IR's text, and printing elides them.

    Later stages add fused forms (attention, linear attention), quantized and
    sparse matmuls as further ops of this dialect; they share the conventions
    above.
  }];
  let hasConstantMaterializer = 1;
  // Attributes live in the op's attribute dictionary rather than in
  // properties: the importer builds ops generically from ONNX nodes and asks
  // each op to infer its result types from that dictionary before creating it.
  let usePropertiesForAttributes = 0;
  let extraClassDeclaration = [{
    /// Name of the function argument/result attribute listing, per dimension,
    /// the ONNX dim_param ("" for a static or unnamed dimension).
    static constexpr ::llvm::StringLiteral kDimParamsAttrName = "tfm.dim_params";
  }];
}

#endif // TFM_DIALECT_TD
