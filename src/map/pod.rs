//! [`Pod`]: plain-old-data map keys and values, serialised with safe code only.
//!
//! The kernel sees keys and values as byte strings of the map's key/value size. Instead of
//! reinterpreting memory (which needs an unchecked cast and a promise about padding and
//! invalid byte patterns), every `Pod` type says how to write itself to bytes and read itself
//! back, in native byte order, with safe code. That is implemented here for the integer and float
//! types, `bool`, arrays of `Pod` types and `()` (zero-sized, for queue/stack/bloom keys); the
//! [`impl_pod!`](crate::impl_pod) macro implements it for a user's `#[repr(C)]` struct field by
//! field at the field offsets the compiler chose (`core::mem::offset_of!`), padding written as
//! zeros. The struct literal the macro builds makes the compiler check that every field is
//! listed, and every field must itself be `Pod`.
//!
//! The cost is a copy per field, which is nothing next to a `bpf(2)` call.

/// A type that maps keys and values can be made of: a fixed-size, native-endian byte image.
///
/// # Contract
/// `write_to` writes exactly [`SIZE`](Pod::SIZE) bytes at the start of `out` (which is at
/// least that long); `read_from` reads the first `SIZE` bytes of `bytes` (at least that long)
/// and gives a value for *any* bytes (there are no invalid byte patterns as far as this trait
/// is concerned: `bool` reads any non-zero byte as `true`). For the kernel to see the layout a
/// BPF program expects, `SIZE` and the byte image must match the C type: use `#[repr(C)]`
/// structs with [`impl_pod!`](crate::impl_pod).
pub trait Pod: Copy + 'static {
    /// The size of the byte image (the map's key or value size).
    const SIZE: usize;
    /// Writes the byte image into `out[..SIZE]`.
    ///
    /// # Panics
    /// If `out` is shorter than `SIZE` (the map layer always passes a buffer of the right
    /// size).
    fn write_to(&self, out: &mut [u8]);
    /// Reads a value from `bytes[..SIZE]`.
    ///
    /// # Panics
    /// If `bytes` is shorter than `SIZE`.
    fn read_from(bytes: &[u8]) -> Self;
}

macro_rules! pod_num {
    ($($t:ty),*) => {$(
        impl Pod for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn write_to(&self, out: &mut [u8]) {
                out[..Self::SIZE].copy_from_slice(&self.to_ne_bytes());
            }
            #[inline]
            fn read_from(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(&bytes[..Self::SIZE]);
                <$t>::from_ne_bytes(b)
            }
        }
    )*};
}

pod_num!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64);

impl Pod for bool {
    const SIZE: usize = 1;
    #[inline]
    fn write_to(&self, out: &mut [u8]) {
        out[0] = u8::from(*self);
    }
    #[inline]
    fn read_from(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

impl Pod for () {
    const SIZE: usize = 0;
    #[inline]
    fn write_to(&self, _out: &mut [u8]) {}
    #[inline]
    fn read_from(_bytes: &[u8]) -> Self {}
}

impl<T: Pod + Default, const N: usize> Pod for [T; N] {
    const SIZE: usize = T::SIZE * N;
    #[inline]
    fn write_to(&self, out: &mut [u8]) {
        for (i, v) in self.iter().enumerate() {
            v.write_to(&mut out[i * T::SIZE..]);
        }
    }
    #[inline]
    fn read_from(bytes: &[u8]) -> Self {
        let mut a = [T::default(); N];
        for (i, v) in a.iter_mut().enumerate() {
            *v = T::read_from(&bytes[i * T::SIZE..]);
        }
        a
    }
}

/// Implements [`Pod`] for a `#[repr(C)]` struct with named fields, field by field.
///
/// List the type and every field; the compiler checks that none is missing and that each is
/// `Pod`. The byte image is the struct's in-memory layout (field offsets from
/// `core::mem::offset_of!`, size from `size_of`), with padding bytes written as zeros.
///
/// ```
/// #[repr(C)]
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// struct Flow { saddr: u32, dport: u16, proto: u8, packets: u64 }
/// rawbpf::impl_pod!(Flow { saddr, dport, proto, packets });
///
/// use rawbpf::map::Pod;
/// let f = Flow { saddr: 1, dport: 2, proto: 3, packets: 4 };
/// let mut buf = [0xffu8; 16];
/// f.write_to(&mut buf);
/// assert_eq!(buf[7], 0); // padding is zeroed
/// assert_eq!(Flow::read_from(&buf), f);
/// ```
#[macro_export]
macro_rules! impl_pod {
    ($t:ty { $($field:ident),* $(,)? }) => {
        impl $crate::map::Pod for $t {
            const SIZE: usize = ::core::mem::size_of::<$t>();
            fn write_to(&self, out: &mut [u8]) {
                let out = &mut out[..<Self as $crate::map::Pod>::SIZE];
                out.fill(0);
                $( $crate::map::Pod::write_to(&self.$field, &mut out[::core::mem::offset_of!($t, $field)..]); )*
            }
            fn read_from(bytes: &[u8]) -> Self {
                let bytes = &bytes[..<Self as $crate::map::Pod>::SIZE];
                Self { $( $field: $crate::map::Pod::read_from(&bytes[::core::mem::offset_of!($t, $field)..]), )* }
            }
        }
    };
}

/// A small inline buffer for one serialised key or value (no allocation up to 64 bytes).
pub(crate) enum Buf {
    Inline([u8; 64], usize),
    Heap(Vec<u8>),
}

impl Buf {
    /// A zeroed buffer of `len` bytes.
    #[inline]
    pub(crate) fn zeroed(len: usize) -> Self {
        if len <= 64 {
            Buf::Inline([0; 64], len)
        } else {
            Buf::Heap(vec![0; len])
        }
    }

    /// The byte image of `v`.
    #[inline]
    pub(crate) fn of<T: Pod>(v: &T) -> Self {
        let mut b = Buf::zeroed(T::SIZE);
        v.write_to(b.as_mut());
        b
    }
}

impl AsRef<[u8]> for Buf {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        match self {
            Buf::Inline(a, n) => &a[..*n],
            Buf::Heap(v) => v,
        }
    }
}

impl AsMut<[u8]> for Buf {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        match self {
            Buf::Inline(a, n) => &mut a[..*n],
            Buf::Heap(v) => v,
        }
    }
}

/// Runs `f` on a zeroed buffer of `len` bytes: on the stack up to 64 bytes, else on the heap.
///
/// For the hot typed paths, where `len` is a `Pod::SIZE` (a constant): the tier is chosen at
/// compile time, only a buffer of about the value's size is zeroed, and nothing but the
/// buffer itself is lent to the `bpf(2)` call, so nothing else (a length, an enum tag) has to
/// be read back from memory after it.
#[inline(always)]
pub(crate) fn with_zeroed<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len <= 8 {
        f(&mut [0u8; 8][..len])
    } else if len <= 16 {
        f(&mut [0u8; 16][..len])
    } else if len <= 64 {
        f(&mut [0u8; 64][..len])
    } else {
        f(&mut vec![0u8; len])
    }
}

/// Runs `f` on the byte image of `v` (as [`with_zeroed`]).
#[inline(always)]
pub(crate) fn with_image<T: Pod, R>(v: &T, f: impl FnOnce(&[u8]) -> R) -> R {
    with_zeroed(T::SIZE, |b| {
        v.write_to(b);
        f(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    struct S {
        a: u8,
        b: u32,
        c: [u16; 3],
        d: u64,
    }
    crate::impl_pod!(S { a, b, c, d });

    #[test]
    fn scoped_buffers_have_the_size_asked_and_are_zeroed() {
        for len in [0, 1, 8, 9, 16, 17, 64, 65, 300] {
            with_zeroed(len, |b| {
                assert_eq!(b.len(), len);
                assert!(b.iter().all(|x| *x == 0));
            });
        }
        assert_eq!(
            with_image(&0x0102_0304u32, |b| b.to_vec()),
            0x0102_0304u32.to_ne_bytes()
        );
        let big = [7u64; 20];
        assert_eq!(with_image(&big, |b| b.len()), 160);
    }

    #[test]
    fn roundtrip() {
        assert_eq!(S::SIZE, 24);
        let s = S {
            a: 7,
            b: 0x01020304,
            c: [1, 2, 3],
            d: u64::MAX - 1,
        };
        let mut buf = vec![0xaa; 24];
        s.write_to(&mut buf);
        assert_eq!(&buf[1..4], &[0, 0, 0]);
        assert_eq!(&buf[4..8], &0x01020304u32.to_ne_bytes());
        assert_eq!(S::read_from(&buf), s);
        let a: [u32; 4] = [1, 2, 3, 4];
        let b = Buf::of(&a);
        assert_eq!(b.as_ref().len(), 16);
        assert_eq!(<[u32; 4]>::read_from(b.as_ref()), a);
        assert!(bool::read_from(&[2]));
        assert_eq!(<[u8; 3]>::read_from(&[1, 2, 3]), [1, 2, 3]);
        assert_eq!(Buf::zeroed(100).as_ref().len(), 100);
    }
}
