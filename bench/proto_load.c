/*
 * bench/proto_load OBJ HOSTEND MAC [HOSTEND MAC]...
 * Loads bench/proto.bpf.c's object, maps each MAC to its host end (the
 * zone's veth end with that MAC is the host end's peer) and attaches the
 * program at TC ingress of every host end (clsact, handle 1, priority 1).
 * The program stays attached after it exits, until the devices go.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int i, rc;

	if (argc < 4 || argc % 2) {
		fprintf(stderr, "usage: %s OBJ HOSTEND MAC [HOSTEND MAC]...\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "%s: cannot load %s\n", argv[0], argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "proto");
	map = bpf_object__find_map_by_name(obj, "proto_fdb");
	if (!prog || !map) {
		fprintf(stderr, "%s: %s has no program proto or map proto_fdb\n", argv[0], argv[1]);
		return 1;
	}
	for (i = 2; i < argc; i += 2) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = bpf_program__fd(prog));
		unsigned int m[6], ifindex = if_nametoindex(argv[i]);
		unsigned char key[8] = { 0 };
		int j;

		if (!ifindex || sscanf(argv[i + 1], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
			fprintf(stderr, "%s: bad host end or MAC: %s %s\n", argv[0], argv[i], argv[i + 1]);
			return 1;
		}
		for (j = 0; j < 6; j++)
			key[j] = (unsigned char)m[j];
		if (bpf_map_update_elem(bpf_map__fd(map), key, &ifindex, BPF_ANY)) {
			fprintf(stderr, "%s: cannot write the map: %s\n", argv[0], strerror(errno));
			return 1;
		}
		hook.ifindex = (int)ifindex;
		rc = bpf_tc_hook_create(&hook);
		if ((rc && rc != -EEXIST) || (rc = bpf_tc_attach(&hook, &opts))) {
			fprintf(stderr, "%s: cannot attach to %s: %s\n", argv[0], argv[i], strerror(-rc));
			return 1;
		}
	}
	return 0;
}
