// RUN: tfc-opt %s --tfc-cpu-lower-runtime-checks | FileCheck %s

// COM: Each assert branches to a block that reports its message to the
// COM: runtime; equal messages share one string. An assert that compares
// COM: two integers (dims that must agree) reports the two values too, but
// COM: not one that they differ (a delta that must not be 0).
// CHECK: llvm.mlir.global private constant @tfc_check_message_0("node 'Add_1' (tfm.add): dims differ\00")
// CHECK-NOT: llvm.mlir.global
// CHECK-DAG: llvm.func @tfc_rt_check_failed_values(!llvm.ptr, i64, i64)
// CHECK-DAG: llvm.func @tfc_rt_check_failed(!llvm.ptr)
// CHECK-LABEL: func.func @checked
// CHECK: %[[SAME:.+]] = arith.cmpi eq
// CHECK: cf.cond_br %[[SAME]], ^[[OK:bb[0-9]+]], ^[[FAILED:bb[0-9]+]]
// CHECK: ^[[FAILED]]:
// CHECK: llvm.mlir.addressof @tfc_check_message_0
// CHECK: %[[A:.+]] = arith.index_cast %arg0 : index to i64
// CHECK: %[[B:.+]] = arith.index_cast %arg1 : index to i64
// CHECK: llvm.call @tfc_rt_check_failed_values(%{{.+}}, %[[A]], %[[B]])
// CHECK-NEXT: llvm.unreachable
// CHECK: ^[[OK]]:
// CHECK: arith.cmpi ne
// CHECK: cf.cond_br
// CHECK: llvm.call @tfc_rt_check_failed(%{{[0-9]+}}) : (!llvm.ptr) -> ()
// CHECK-NOT: cf.assert
func.func @checked(%a: index, %b: index) -> index {
  %same = arith.cmpi eq, %a, %b : index
  cf.assert %same, "node 'Add_1' (tfm.add): dims differ"
  %other = arith.cmpi ne, %a, %b : index
  cf.assert %other, "node 'Add_1' (tfm.add): dims differ"
  %s = arith.addi %a, %b : index
  return %s : index
}

// COM: A function without asserts is left alone.
// CHECK-LABEL: func.func @unchecked
// CHECK-NEXT: return %arg0
func.func @unchecked(%a: index) -> index {
  return %a : index
}
