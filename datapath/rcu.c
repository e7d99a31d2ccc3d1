#include <sched.h>
#include <time.h>

#include "datapath/rcu.h"

uint64_t vw_rcu_epoch = 1;
struct vw_rcu_slot vw_rcu_slots[VW_MAX_WORKERS];
int vw_rcu_nworkers;

void vw_rcu_synchronize(void)
{
	uint64_t e = __atomic_add_fetch(&vw_rcu_epoch, 1, __ATOMIC_SEQ_CST);
	int w, n = __atomic_load_n(&vw_rcu_nworkers, __ATOMIC_ACQUIRE);

	for (w = 0; w < n; w++) {
		while (__atomic_load_n(&vw_rcu_slots[w].seen, __ATOMIC_ACQUIRE) < e) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
	}
}
