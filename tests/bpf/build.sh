#!/usr/bin/env bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Rebuilds every committed BPF object of the repository, reproducibly:
#   tests/bpf/*.bpf.c      -> tests/bpf/*.bpf.o
#   examples/*/*.bpf.c     -> examples/*/*.bpf.o (next to the source)
#   benches/bpf/*.bpf.c    -> benches/bpf/*.bpf.o (the benchmark's objects, built with the
#                             codegen flags of ../shared/bench/bpf/build.sh -- no -mcpu=v3 --
#                             so the programs match the shared build; their kernel types come
#                             from the hand-written benches/bpf/core_types.h, not a vmlinux.h,
#                             so no bpftool is needed and the objects do not depend on the
#                             kernel the build runs on)
#
# Usage:
#   tests/bpf/build.sh           rebuild the objects in place
#   tests/bpf/build.sh --check   rebuild into a temporary directory and fail, listing them,
#                                if any committed object differs from a fresh build
#
# Needs Debian's clang-19, llvm-19 (llvm-strip-19) and libbpf-dev headers (no bpftool, no
# vmlinux.h, no BTF of the running kernel). `cargo test` does not: the objects are committed.
# The output does not depend on the checkout's path: sources are compiled by their
# repository-relative path from the repository root, with
# -fdebug-prefix-map/-ffile-prefix-map, and DWARF is stripped (.BTF and .BTF.ext are kept:
# llvm-strip --strip-debug only removes .debug_* sections).
set -euo pipefail

CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
ARCH_INC=/usr/include/$(uname -m)-linux-gnu

check=0
case "${1:-}" in
"") ;;
--check) check=1 ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

for tool in "$CLANG" "$STRIP"; do
	command -v "$tool" >/dev/null || {
		echo "error: $tool not found (apt-get install clang-19 llvm-19 libbpf-dev)" >&2
		exit 1
	}
done

cd "$REPO"
shopt -s nullglob
sources=(tests/bpf/*.bpf.c examples/*/*.bpf.c)
bench_sources=(benches/bpf/*.bpf.c)

outdir=""
if [ "$check" = 1 ]; then
	outdir=$(mktemp -d)
	trap 'rm -rf "$outdir"' EXIT
fi

stale=()
# build SRC CLANG_FLAGS...: compile SRC next to itself (or under $outdir with --check).
build() {
	local src=$1 obj out
	shift
	obj=${src%.c}.o
	out=$obj
	if [ "$check" = 1 ]; then
		out=$outdir/$obj
		mkdir -p "$(dirname "$out")"
	fi
	"$CLANG" -target bpf -O2 -g -D__TARGET_ARCH_x86 -Wall -Werror "$@" \
		-fdebug-prefix-map="$REPO"=. -ffile-prefix-map="$REPO"=. \
		-I"$(dirname "$src")" \
		-c "$src" -o "$out"
	"$STRIP" --strip-debug "$out"
	if [ "$check" = 1 ]; then
		if ! cmp -s "$out" "$obj"; then
			stale+=("$obj")
		fi
	else
		echo "built $obj"
	fi
}

for src in "${sources[@]}"; do
	build "$src" -mcpu=v3 -I"$ARCH_INC"
done
for src in "${bench_sources[@]}"; do
	build "$src" -Wno-unused-function
done
sources+=("${bench_sources[@]}")

# User-space targets of the probe tests: tests/bpf/*_target.c -> tests/bpf/*_target (x86-64
# executables with hand-written USDT notes), built with the same clang, no build id, and the
# checkout's path mapped away, so that the committed binaries are reproducible.
for src in tests/bpf/*_target.c; do
	bin=${src%.c}
	out=$bin
	if [ "$check" = 1 ]; then
		out=$outdir/$bin
		mkdir -p "$(dirname "$out")"
	fi
	"$CLANG" -O2 -Wall -Werror -Wl,--build-id=none \
		-fdebug-prefix-map="$REPO"=. -ffile-prefix-map="$REPO"=. \
		"$src" -o "$out"
	if [ "$check" = 1 ]; then
		cmp -s "$out" "$bin" || stale+=("$bin")
	else
		echo "built $bin"
	fi
	sources+=("$src")
done

if [ "$check" = 1 ]; then
	if [ "${#stale[@]}" -ne 0 ]; then
		echo "stale BPF objects (run tests/bpf/build.sh and commit them):" >&2
		printf '  %s\n' "${stale[@]}" >&2
		exit 1
	fi
	echo "all ${#sources[@]} BPF objects are up to date"
fi
