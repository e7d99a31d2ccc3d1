/*
 * Quiescent-state based reclamation between the control thread and the
 * workers, in the manner of Open vSwitch's ovs-rcu.
 *
 * A worker announces a quiescent state once per loop iteration (it then holds
 * no pointer into a switch table or to a port taken before), and goes
 * "offline" while it sleeps in epoll_wait.  The control thread publishes a
 * new pointer, calls vw_rcu_synchronize(), and may then free what the old
 * pointer referenced: every worker has since either passed a quiescent state
 * or been offline.  Workers pay one store per iteration, never per packet.
 */
#ifndef VW_RCU_H
#define VW_RCU_H

#include <stdint.h>
#include "datapath/port.h"

struct vw_rcu_slot {
	uint64_t seen; /* epoch last seen by the worker; UINT64_MAX: offline */
} __attribute__((aligned(64)));

extern uint64_t vw_rcu_epoch;
extern struct vw_rcu_slot vw_rcu_slots[VW_MAX_WORKERS];
extern int vw_rcu_nworkers;

static inline void vw_rcu_quiesce(int w)
{
	__atomic_store_n(&vw_rcu_slots[w].seen, __atomic_load_n(&vw_rcu_epoch, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

static inline void vw_rcu_offline(int w)
{
	__atomic_store_n(&vw_rcu_slots[w].seen, UINT64_MAX, __ATOMIC_RELEASE);
}

static inline void vw_rcu_online(int w)
{
	__atomic_store_n(&vw_rcu_slots[w].seen, __atomic_load_n(&vw_rcu_epoch, __ATOMIC_ACQUIRE), __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Control thread: returns once every worker has passed a quiescent state
 * (or was offline) since the call began. */
void vw_rcu_synchronize(void);

#define vw_rcu_publish(pp, v) __atomic_store_n((pp), (v), __ATOMIC_RELEASE)
#define vw_rcu_deref(pp) __atomic_load_n((pp), __ATOMIC_ACQUIRE)

#endif
