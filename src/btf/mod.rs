//! BTF: zero-copy parsing, CO-RE, building, kernel BTF.
