// The cases of Inputs/attention_cases.py, one tfm.attention each.
module {
  func.func @main(
      %pq: tensor<2x100x64xf32> {tfm.name = "padded_q"}, %pk: tensor<2x150x64xf32> {tfm.name = "padded_k"},
      %pv: tensor<2x150x64xf32> {tfm.name = "padded_v"}, %pm: tensor<2x1x1x150xf32> {tfm.name = "padded_mask"},
      %cq: tensor<1x130x96xf32> {tfm.name = "causal_q"}, %ck: tensor<1x130x96xf32> {tfm.name = "causal_k"},
      %cv: tensor<1x130x96xf32> {tfm.name = "causal_v"},
      %dq: tensor<1x5x32xf32> {tfm.name = "decode_q"}, %dk: tensor<1x70x32xf32> {tfm.name = "decode_k"},
      %dv: tensor<1x70x40xf32> {tfm.name = "decode_v"},
      %mq: tensor<1x7x6xf32> {tfm.name = "masked_q"}, %mk: tensor<1x9x6xf32> {tfm.name = "masked_k"},
      %mv: tensor<1x9x6xf32> {tfm.name = "masked_v"}, %mm: tensor<1x2x7x9xf32> {tfm.name = "masked_mask"},
      %tq: tensor<1x90x32xf32> {tfm.name = "partial_q"}, %tk: tensor<1x90x32xf32> {tfm.name = "partial_k"},
      %tv: tensor<1x90x32xf32> {tfm.name = "partial_v"},
      %lq: tensor<1x70x32xf32> {tfm.name = "long_q"}, %lk: tensor<1x600x32xf32> {tfm.name = "long_k"},
      %lv: tensor<1x600x32xf32> {tfm.name = "long_v"}, %lm: tensor<1x1x1x600xf32> {tfm.name = "long_mask"},
      %gq: tensor<2x4x9x16xf32> {tfm.name = "grouped_q"}, %gk: tensor<2x11x32xf32> {tfm.name = "grouped_k"},
      %gv: tensor<2x2x11x8xf32> {tfm.name = "grouped_v"},
      %glq: tensor<1x70x64xf32> {tfm.name = "grouped_long_q"}, %glk: tensor<1x2x600x16xf32> {tfm.name = "grouped_long_k"},
      %glv: tensor<1x600x32xf32> {tfm.name = "grouped_long_v"},
      %xq: tensor<1x1x32xf32> {tfm.name = "decode_long_q"}, %xk: tensor<1x600x32xf32> {tfm.name = "decode_long_k"},
      %xv: tensor<1x600x32xf32> {tfm.name = "decode_long_v"})
      -> (tensor<2x100x64xf32> {tfm.name = "padded"}, tensor<1x130x96xf32> {tfm.name = "causal"},
          tensor<1x5x40xf32> {tfm.name = "decode"}, tensor<1x7x6xf32> {tfm.name = "masked"},
          tensor<1x90x32xf32> {tfm.name = "partial"}, tensor<1x70x32xf32> {tfm.name = "long"},
          tensor<2x9x32xf32> {tfm.name = "grouped"}, tensor<1x70x64xf32> {tfm.name = "grouped_long"},
          tensor<1x1x32xf32> {tfm.name = "decode_long"}) {
    %0 = tfm.attention %pq, %pk, %pv, %pm {num_heads = 4 : i64, scale = 0.25 : f32}
        : (tensor<2x100x64xf32>, tensor<2x150x64xf32>, tensor<2x150x64xf32>, tensor<2x1x1x150xf32>) -> tensor<2x100x64xf32>
    %1 = tfm.attention %cq, %ck, %cv {num_heads = 2 : i64, scale = 0.144337565 : f32, causal = true}
        : (tensor<1x130x96xf32>, tensor<1x130x96xf32>, tensor<1x130x96xf32>) -> tensor<1x130x96xf32>
    %2 = tfm.attention %dq, %dk, %dv {num_heads = 2 : i64, scale = 0.25 : f32, causal = true}
        : (tensor<1x5x32xf32>, tensor<1x70x32xf32>, tensor<1x70x40xf32>) -> tensor<1x5x40xf32>
    %3 = tfm.attention %mq, %mk, %mv, %mm {num_heads = 2 : i64, scale = 0.5 : f32}
        : (tensor<1x7x6xf32>, tensor<1x9x6xf32>, tensor<1x9x6xf32>, tensor<1x2x7x9xf32>) -> tensor<1x7x6xf32>
    %4 = tfm.attention %tq, %tk, %tv {num_heads = 2 : i64, scale = 0.25 : f32}
        : (tensor<1x90x32xf32>, tensor<1x90x32xf32>, tensor<1x90x32xf32>) -> tensor<1x90x32xf32>
    %5 = tfm.attention %lq, %lk, %lv, %lm {num_heads = 2 : i64, scale = 0.25 : f32}
        : (tensor<1x70x32xf32>, tensor<1x600x32xf32>, tensor<1x600x32xf32>, tensor<1x1x1x600xf32>) -> tensor<1x70x32xf32>
    %6 = tfm.attention %gq, %gk, %gv {num_heads = 4 : i64, scale = 0.25 : f32, causal = true}
        : (tensor<2x4x9x16xf32>, tensor<2x11x32xf32>, tensor<2x2x11x8xf32>) -> tensor<2x9x32xf32>
    %7 = tfm.attention %glq, %glk, %glv {num_heads = 4 : i64, scale = 0.25 : f32}
        : (tensor<1x70x64xf32>, tensor<1x2x600x16xf32>, tensor<1x600x32xf32>) -> tensor<1x70x64xf32>
    %8 = tfm.attention %xq, %xk, %xv {num_heads = 2 : i64, scale = 0.25 : f32, causal = true}
        : (tensor<1x1x32xf32>, tensor<1x600x32xf32>, tensor<1x600x32xf32>) -> tensor<1x1x32xf32>
    return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<2x100x64xf32>, tensor<1x130x96xf32>, tensor<1x5x40xf32>, tensor<1x7x6xf32>, tensor<1x90x32xf32>, tensor<1x70x32xf32>, tensor<2x9x32xf32>, tensor<1x70x64xf32>, tensor<1x1x32xf32>
  }
}
