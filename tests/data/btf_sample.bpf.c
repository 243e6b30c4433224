typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(n) __attribute__((section(n), used))
struct task { int pid; __u32 flags:3, mode:5; char comm[16]; } __attribute__((preserve_access_index));
struct { int (*type)[2]; int (*max_entries)[16]; __u32 *key; struct task *value; } m SEC(".maps");
int counter = 0;
const volatile int cfg = 3;
enum big { B1 = 1ULL << 40 };
enum big gb;
SEC("tracepoint/x") int prog(void *ctx) { struct task *t = ctx; counter += t->pid + __builtin_preserve_field_info(t->mode, 0) + cfg; return 0; }
