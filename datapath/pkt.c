#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "datapath/pkt.h"

int vw_pool_init(struct vw_pool *p, unsigned size)
{
	/* page-rounded buffers would all start at the same cache set, so the
	 * headers of one batch would evict each other: stagger them by three
	 * cache lines */
	size_t stride = ((sizeof(struct vw_pkt) + 4095) & ~(size_t)4095) + 3 * 64;
	unsigned i;

	p->memlen = stride * size;
	p->mem = mmap(NULL, p->memlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->mem == MAP_FAILED)
		return -errno;
	p->free = calloc(size, sizeof(*p->free));
	if (!p->free) {
		munmap(p->mem, p->memlen);
		return -ENOMEM;
	}
	p->size = size;
	p->nfree = size;
	for (i = 0; i < size; i++)
		p->free[size - 1 - i] = (struct vw_pkt *)((char *)p->mem + i * stride);
	return 0;
}

void vw_pool_fini(struct vw_pool *p)
{
	if (p->mem && p->mem != MAP_FAILED)
		munmap(p->mem, p->memlen);
	free(p->free);
	p->mem = NULL;
	p->free = NULL;
}
