// A graph of elementwise ops and a matmul for the cuda target's tests:
// erf (through GELU) and tanh expand into arithmetic in the kernels, sqrt
// (through the layer norm) becomes an NVPTX instruction.
module {
  func.func @main(%x: tensor<4x1000xf32> {tfm.name = "x"}, %y: tensor<4x1000xf32> {tfm.name = "y"},
                  %w: tensor<1000x64xf32> {tfm.name = "w"})
      -> (tensor<4x1000xf32> {tfm.name = "gelu"}, tensor<4x64xf32> {tfm.name = "product"}) {
    %0 = tfm.add %x, %y : (tensor<4x1000xf32>, tensor<4x1000xf32>) -> tensor<4x1000xf32>
    %1 = tfm.gelu %0 : (tensor<4x1000xf32>) -> tensor<4x1000xf32>
    %2 = tfm.tanh %1 : (tensor<4x1000xf32>) -> tensor<4x1000xf32>
    %3 = tfm.sqrt %2 : (tensor<4x1000xf32>) -> tensor<4x1000xf32>
    %4 = tfm.matmul %3, %w : (tensor<4x1000xf32>, tensor<1000x64xf32>) -> tensor<4x64xf32>
    return %1, %4 : tensor<4x1000xf32>, tensor<4x64xf32>
  }
}
