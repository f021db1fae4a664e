// Two causal softmax attentions over one sequence dim (named "sequence"),
// for attention-decoder.test: compiled with --decoder, each keeps a KV
// cache in the instance. The first token-major, the second head-major with
// grouped queries (4 query heads, 2 KV heads).
module {
  func.func @main(
      %tq: tensor<?x?x96xf32> {tfm.name = "token_q", tfm.dim_params = ["batch", "sequence", ""]},
      %tk: tensor<?x?x96xf32> {tfm.name = "token_k", tfm.dim_params = ["batch", "sequence", ""]},
      %tv: tensor<?x?x96xf32> {tfm.name = "token_v", tfm.dim_params = ["batch", "sequence", ""]},
      %gq: tensor<?x4x?x16xf32> {tfm.name = "grouped_q", tfm.dim_params = ["batch", "", "sequence", ""]},
      %gk: tensor<?x2x?x16xf32> {tfm.name = "grouped_k", tfm.dim_params = ["batch", "", "sequence", ""]},
      %gv: tensor<?x2x?x24xf32> {tfm.name = "grouped_v", tfm.dim_params = ["batch", "", "sequence", ""]})
      -> (tensor<?x?x96xf32> {tfm.name = "token"}, tensor<?x?x96xf32> {tfm.name = "grouped"}) {
    %t = tfm.attention %tq, %tk, %tv {causal = true, num_heads = 3 : i64, scale = 0.2 : f32} : (tensor<?x?x96xf32>, tensor<?x?x96xf32>, tensor<?x?x96xf32>) -> tensor<?x?x96xf32>
    %g = tfm.attention %gq, %gk, %gv {causal = true, num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x24xf32>) -> tensor<?x?x96xf32>
    return %t, %g : tensor<?x?x96xf32>, tensor<?x?x96xf32>
  }
}
