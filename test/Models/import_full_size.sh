#!/usr/bin/env bash
# Exports the full-size models (once; they are cached in test/Models/full-size/,
# which git ignores) and imports each with `tfc import`, printing wall time and
# peak memory. Fails if an import fails. Timing is reported, not asserted:
# speed is a benchmark's business, not a test's.
#   usage: import_full_size.sh path/to/tfc
set -uo pipefail
tfc="${1:?usage: $0 path/to/tfc}"
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/full-size"
mkdir -p "$out"

# BERT-base at both opsets; GPT-2 small and ViT-S/16 at opset 17.
exports=("bert:14,17" "gpt2:17" "vit:17")
for spec in "${exports[@]}"; do
  family="${spec%%:*}"; opsets="${spec#*:}"
  need=0
  for opset in ${opsets//,/ }; do
    [ -s "$out/$family-opset$opset.onnx" ] || need=1
  done
  if [ $need -eq 1 ]; then
    echo "exporting full-size $family (opsets $opsets)..."
    /usr/bin/python3 "$here/export_models.py" --full-size --families "$family" \
      --opsets "$opsets" --out "$out" 2>&1 | grep -E "^wrote|Error"
  fi
done

status=0
for model in "$out"/*.onnx; do
  log=$(mktemp)
  if /usr/bin/time -f "%e %M" -o "$log.time" "$tfc" import "$model" -o /dev/null 2>"$log"; then
    read -r seconds kib < "$log.time"
    printf "imported %-22s %6.1f MB  in %5.2f s, peak memory %6.0f MB\n" \
      "$(basename "$model")" "$(echo "$(stat -c %s "$model") / 1000000" | bc -l)" \
      "$seconds" "$(echo "$kib / 1024" | bc -l)"
  else
    echo "FAILED to import $(basename "$model"):"; cat "$log"; status=1
  fi
  rm -f "$log" "$log.time"
done
exit $status
