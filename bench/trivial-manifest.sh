# The benchmarks' trivial pipeline, sourced by them: `trivial_manifest N` prints a manifest whose
# start step writes N small files and whose second step upper-cases each (N + 1 tasks).
trivial_manifest() {
  cat <<TOML
name = "bench-trivial"

[[step]]
name = "make"
script = '''
i=1
while [ \$i -le $1 ]; do
  echo "item \$i" > "\$OUTPUT_DIR/item_\$i"
  i=\$((i + 1))
done
'''

[[step]]
name = "upper"
inputs = ["item_*"]
script = "tr a-z A-Z < \"\$INPUT_FILE\" > \"\$OUTPUT_DIR/upper\""
TOML
}
