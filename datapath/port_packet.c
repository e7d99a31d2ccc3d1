/*
 * AF_PACKET backend: a phys uplink.  Frames are received and sent in batches
 * (recvmmsg/sendmmsg), each with a virtio-net header (PACKET_VNET_HDR), so a
 * VNIC's TCP/UDP super-frame goes to the interface whole and the kernel
 * segments it (or the device does) on the way out.  The kernel hands VLAN
 * tags it stripped on receive to us as auxiliary data; we put them back in
 * the frame so the switch sees the frame as it was on the wire.  The socket
 * ignores the frames it sends itself (PACKET_IGNORE_OUTGOING) and runs the
 * interface promiscuous, since the VNICs' addresses are not its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "datapath/port.h"
#include "datapath/vnet.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define AUX_SPACE CMSG_SPACE(sizeof(struct tpacket_auxdata))
#define VNET_LEN sizeof(struct virtio_net_hdr) /* the packet socket's header size */

struct packet_priv {
	/* receive scratch: used only by the worker that polls the port */
	struct mmsghdr msgs[VW_BATCH];
	struct iovec iov[VW_BATCH][2];
	uint8_t cmsg[VW_BATCH][AUX_SPACE];
};

static void restore_tag(struct vw_pkt *pkt, const struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR((struct msghdr *)mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (!(aux.tp_status & TP_STATUS_VLAN_VALID) || pkt->len < 12)
			return;
		pkt->data -= 4;
		memmove(pkt->data, pkt->data + 4, 12);
		pkt->data[12] = 0x81;
		pkt->data[13] = 0x00;
		pkt->data[14] = (uint8_t)(aux.tp_vlan_tci >> 8);
		pkt->data[15] = (uint8_t)aux.tp_vlan_tci;
		pkt->len += 4;
		vw_vnet_shift(&pkt->vnet, 4);
		return;
	}
}

static int packet_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct packet_priv *pp = port->priv;
	int i, got, have = 0;

	for (have = 0; have < n; have++) {
		struct vw_pkt *pkt = vw_pkt_alloc(pool);

		if (!pkt)
			break;
		pkts[have] = pkt;
		memset(&pkt->vnet, 0, sizeof(pkt->vnet));
		pp->iov[have][0] = (struct iovec){ &pkt->vnet, VNET_LEN };
		pp->iov[have][1] = (struct iovec){ pkt->buf, sizeof(pkt->buf) };
		memset(&pp->msgs[have], 0, sizeof(pp->msgs[have]));
		pp->msgs[have].msg_hdr.msg_iov = pp->iov[have];
		pp->msgs[have].msg_hdr.msg_iovlen = 2;
		pp->msgs[have].msg_hdr.msg_control = pp->cmsg[have];
		pp->msgs[have].msg_hdr.msg_controllen = AUX_SPACE;
	}
	got = have ? recvmmsg(port->fd, pp->msgs, (unsigned)have, MSG_DONTWAIT, NULL) : 0;
	if (got < 0)
		got = 0;
	for (i = 0; i < got; i++) {
		pkts[i]->len = pp->msgs[i].msg_len > VNET_LEN ? (uint32_t)(pp->msgs[i].msg_len - VNET_LEN) : 0;
		restore_tag(pkts[i], &pp->msgs[i].msg_hdr);
	}
	for (i = got; i < have; i++)
		vw_pkt_free(pool, pkts[i]);
	return got;
}

static int packet_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct mmsghdr msgs[VW_BATCH];
	struct iovec iov[VW_BATCH][4];
	struct virtio_net_hdr_v1 vnet[VW_BATCH];
	uint8_t vtag[VW_BATCH][4];
	int i, sent = 0;

	if (n > VW_BATCH)
		n = VW_BATCH;
	memset(msgs, 0, sizeof(msgs[0]) * (size_t)n);
	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];
		int niov = 0;

		iov[i][niov++] = (struct iovec){ &pkt->vnet, VNET_LEN };
		if (tag && pkt->vid) {
			vtag[i][0] = 0x81;
			vtag[i][1] = 0x00;
			vtag[i][2] = (uint8_t)(pkt->vid >> 8);
			vtag[i][3] = (uint8_t)pkt->vid;
			/* the frame is shared with other destinations: shift a
			 * copy of its header */
			vnet[i] = pkt->vnet;
			vw_vnet_shift(&vnet[i], 4);
			iov[i][0].iov_base = &vnet[i];
			iov[i][niov++] = (struct iovec){ pkt->data, 12 };
			iov[i][niov++] = (struct iovec){ vtag[i], 4 };
			iov[i][niov++] = (struct iovec){ pkt->data + 12, pkt->len - 12 };
		} else {
			iov[i][niov++] = (struct iovec){ pkt->data, pkt->len };
		}
		msgs[i].msg_hdr.msg_iov = iov[i];
		msgs[i].msg_hdr.msg_iovlen = (size_t)niov;
	}
	while (sent < n) {
		int r = sendmmsg(port->fd, msgs + sent, (unsigned)(n - sent), MSG_DONTWAIT);

		if (r > 0) {
			sent += r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* skip the frame the kernel would not take (too big, no buffer) */
		if (r < 0 && errno != EAGAIN && errno != ENOBUFS) {
			n--;
			memmove(msgs + sent, msgs + sent + 1, sizeof(msgs[0]) * (size_t)(n - sent));
			continue;
		}
		break;
	}
	return sent;
}

static void packet_close(struct vw_port *port)
{
	if (port->fd >= 0)
		close(port->fd);
	free(port->priv);
}

static const struct vw_port_ops packet_ops = {
	.kind = "packet",
	.rx_burst = packet_rx,
	.tx_burst = packet_tx,
	.close = packet_close,
};

struct vw_port *vw_packet_open(const char *ifname, int *err)
{
	struct vw_port *port = calloc(1, sizeof(*port));
	struct sockaddr_ll sll = { 0 };
	struct packet_mreq mr = { 0 };
	int one = 1, ifindex = (int)if_nametoindex(ifname);

	if (!port) {
		*err = -ENOMEM;
		return NULL;
	}
	port->fd = -1;
	if (!ifindex) {
		*err = -ENODEV;
		goto fail;
	}
	port->priv = calloc(1, sizeof(struct packet_priv));
	port->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (!port->priv || port->fd < 0) {
		*err = port->priv ? -errno : -ENOMEM;
		goto fail;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	mr.mr_ifindex = ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(port->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(port->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(port->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    bind(port->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(port->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		*err = -errno;
		goto fail;
	}
	port->ops = &packet_ops;
	port->uplink = true;
	port->nq = 1;
	port->qfd[0] = port->fd;
	strncpy(port->name, ifname, sizeof(port->name) - 1);
	*err = 0;
	return port;
fail:
	if (port->fd >= 0)
		close(port->fd);
	free(port->priv);
	free(port);
	return NULL;
}
