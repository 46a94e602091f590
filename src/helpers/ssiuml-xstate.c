/*
 * ssiuml-xstate.so: lets Debian 12's UML kernel (Linux 6.1) run guest
 * processes on hosts with AVX-512 or AMX.
 *
 * That kernel keeps each guest thread's vector registers in an 832-byte
 * XSAVE image (x87, SSE, AVX) and moves it with ptrace(PTRACE_GETREGSET /
 * PTRACE_SETREGSET, NT_X86_XSTATE).  The host kernel only accepts a SET of
 * its own full XSAVE size (11008 bytes with AMX), so every guest process
 * dies at its first context switch ("ptrace set fp regs failed, errno =
 * 14").  Preloaded into the UML kernel alone, this library widens those
 * two calls: a GET reads the full image and hands back the first part; a
 * SET writes the caller's part over the full image saved at that thread's
 * last GET, so the AVX-512 and AMX state of a stopped process survives
 * the signal handlers UML runs inside it between the two.
 *
 * Images are kept per (host process, UML buffer) pair, that is per guest
 * thread, in a small table; when an entry has been evicted, the current
 * state of the process stands in for it.  Newer UML kernels size their
 * buffer to the host's, and then nothing here is used.  The widening is
 * done only when SSIUML_XSTATE_FIX=1 is in the environment.
 *
 * On every host, it also adds PTRACE_O_EXITKILL to the options UML sets
 * on the host processes that run its guest's processes.  Without it, a
 * kernel killed with SIGKILL (ssi-rm, killall -9 linux-ssi) detaches them,
 * and one stopped at a system call goes on to make that call on the host:
 * a guest's exec of /sbin/getty becomes the host's.  With it, they die
 * with their kernel.
 */
#include <cpuid.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/elf.h>

#define XSAVE_MAX (16 * 1024)
#define XSTATE_BV_OFFSET 512	/* the XSAVE header's feature bitmap */
#define XFEATURES_UML 0x7ull	/* x87, SSE, AVX: what the 832 bytes hold */
#define SLOTS 128
#define PTRACE_OLDSETOPTIONS_REQUEST 21

typedef long (*ptrace_fn)(enum __ptrace_request, pid_t, void *, void *);

struct image {
	pid_t pid;
	const void *owner;
	unsigned long used;
	unsigned char data[XSAVE_MAX] __attribute__((aligned(64)));
};

static struct image images[SLOTS];
static unsigned char scratch[XSAVE_MAX] __attribute__((aligned(64)));
static unsigned long tick;
static size_t host_size;
static ptrace_fn next_ptrace;

__attribute__((constructor)) static void setup(void)
{
	unsigned int a, b, c, d;
	const char *fix = getenv("SSIUML_XSTATE_FIX");

	next_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	if (fix != NULL && strcmp(fix, "1") == 0 &&
	    __get_cpuid_count(0xd, 0, &a, &b, &c, &d) && c <= XSAVE_MAX)
		host_size = c;
}

/* The image of (PID, OWNER); with CREATE, the least recently used slot
 * is taken over when it has none. */
static struct image *find_image(pid_t pid, const void *owner, int create)
{
	struct image *oldest = &images[0];

	for (int i = 0; i < SLOTS; i++) {
		if (images[i].pid == pid && images[i].owner == owner)
			return &images[i];
		if (images[i].used < oldest->used)
			oldest = &images[i];
	}
	if (!create)
		return NULL;
	oldest->pid = pid;
	oldest->owner = owner;
	return oldest;
}

static long raw_ptrace(long request, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, request, pid, addr, data);
}

static long widen(enum __ptrace_request request, pid_t pid, void *addr,
		  struct iovec *iov)
{
	int get = request == PTRACE_GETREGSET;
	struct image *img = find_image(pid, iov->iov_base, get);
	unsigned char *full = img != NULL ? img->data : scratch;
	struct iovec whole = { full, host_size };
	uint64_t theirs, ours, merged;

	if (get || img == NULL)
		if (raw_ptrace(PTRACE_GETREGSET, pid, addr, &whole) < 0)
			return -1;
	if (img != NULL)
		img->used = ++tick;
	if (get) {
		memcpy(iov->iov_base, full, iov->iov_len);
		return 0;
	}
	memcpy(&theirs, full + XSTATE_BV_OFFSET, sizeof(theirs));
	memcpy(&ours, (unsigned char *)iov->iov_base + XSTATE_BV_OFFSET, sizeof(ours));
	memcpy(full, iov->iov_base, iov->iov_len);
	merged = (ours & XFEATURES_UML) | (theirs & ~XFEATURES_UML);
	memcpy(full + XSTATE_BV_OFFSET, &merged, sizeof(merged));
	return raw_ptrace(PTRACE_SETREGSET, pid, addr, &whole);
}

long ptrace(enum __ptrace_request request, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, request);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	/* UML sets them with the old request number (21) as well. */
	if (request == PTRACE_SETOPTIONS || (long)request == PTRACE_OLDSETOPTIONS_REQUEST)
		data = (void *)((uintptr_t)data | PTRACE_O_EXITKILL);
	if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) &&
	    (uintptr_t)addr == NT_X86_XSTATE && host_size != 0 && data != NULL) {
		struct iovec *iov = data;

		if (iov->iov_len > XSTATE_BV_OFFSET + 8 && iov->iov_len < host_size)
			return widen(request, pid, addr, iov);
	}
	return next_ptrace(request, pid, addr, data);
}
