// The device check's matmul: 4096 x 4096 by 4096 x 4096 in bf16 (f32
// sums), both operands graph inputs, timed against torch.matmul in bf16.
module {
  func.func @main(%x: tensor<4096x4096xbf16> {tfm.name = "x"}, %w: tensor<4096x4096xbf16> {tfm.name = "w"})
      -> (tensor<4096x4096xbf16> {tfm.name = "y"}) {
    %0 = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>}
        : (tensor<4096x4096xbf16>, tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16>
    return %0 : tensor<4096x4096xbf16>
  }
}
