// The AMX cases of Inputs/attention_cases.py (its `amx` argument), one
// tfm.attention each, with bf16 products.
module {
  func.func @main(
      %bq: tensor<2x100x128xf32> {tfm.name = "blocks_q"}, %bk: tensor<2x150x128xf32> {tfm.name = "blocks_k"},
      %bv: tensor<2x150x128xf32> {tfm.name = "blocks_v"}, %bm: tensor<2x1x1x150xf32> {tfm.name = "blocks_mask"},
      %cq: tensor<1x200x64xf32> {tfm.name = "causal_q"}, %ck: tensor<1x200x64xf32> {tfm.name = "causal_k"},
      %cv: tensor<1x200x64xf32> {tfm.name = "causal_v"},
      %mq: tensor<1x80x96xf32> {tfm.name = "mixed_q"}, %mk: tensor<1x80x96xf32> {tfm.name = "mixed_k"},
      %mv: tensor<1x80x128xf32> {tfm.name = "mixed_v"})
      -> (tensor<2x100x128xf32> {tfm.name = "blocks"}, tensor<1x200x64xf32> {tfm.name = "causal"},
          tensor<1x80x128xf32> {tfm.name = "mixed"}) {
    %0 = tfm.attention %bq, %bk, %bv, %bm {num_heads = 2 : i64, scale = 0.125 : f32, precision = "bf16"}
        : (tensor<2x100x128xf32>, tensor<2x150x128xf32>, tensor<2x150x128xf32>, tensor<2x1x1x150xf32>) -> tensor<2x100x128xf32>
    %1 = tfm.attention %cq, %ck, %cv {num_heads = 2 : i64, scale = 0.176776695 : f32, causal = true, precision = "bf16"}
        : (tensor<1x200x64xf32>, tensor<1x200x64xf32>, tensor<1x200x64xf32>) -> tensor<1x200x64xf32>
    %2 = tfm.attention %mq, %mk, %mv {num_heads = 2 : i64, scale = 0.144337565 : f32, precision = "bf16"}
        : (tensor<1x80x96xf32>, tensor<1x80x96xf32>, tensor<1x80x128xf32>) -> tensor<1x80x128xf32>
    return %0, %1, %2 : tensor<2x100x128xf32>, tensor<1x200x64xf32>, tensor<1x80x128xf32>
  }
}
