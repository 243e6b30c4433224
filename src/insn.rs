//! Instructions: the 8-byte eBPF instruction, encode/decode, builder helpers, disassembly.
