/*
 * The machine side of the agent in its initramfs: PID 1, kernel modules,
 * the boot NIC's IPv4 lease (busybox udhcpc, with this program as its
 * event script), power.  Nothing here runs unless the agent is the
 * machine's own (--system, which only its init passes).
 */
#include "agent/agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_report.h"
#include "common/log.h"

#define AGENT_RESTART_S 10		/* init restarts a dead agent after this */
#define NIC_WAIT_MS 15000		/* for the boot NIC to appear */
#define DHCP_RETRY_MAX_S 30		/* udhcpc retries back off to this */
#define BUSYBOX "/bin/busybox"
#define DHCP_SCRIPT "/bin/ironboot-agent-dhcp-event"	/* a link to the agent */

uint64_t ib_agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- PID 1 ----------------------------------------------------------------- */

static void mount_fs(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, MS_NOSUID | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
		fprintf(stderr, "ironboot-agent init: mount %s on %s: %s\n", type, dir,
			strerror(errno));
}

void ib_agent_init_main(const char *self)
{
	int fd;

	mount_fs("proc", "/proc", "proc");
	mount_fs("sysfs", "/sys", "sysfs");
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL) < 0 && errno != EBUSY)
		fprintf(stderr, "ironboot-agent init: mount devtmpfs: %s\n", strerror(errno));
	mount_fs("tmpfs", "/tmp", "tmpfs");
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	for (;;) {
		int st = 0;
		pid_t w, pid = fork();
		if (pid == 0) {
			execl(self, "ironboot-agent", "--system", (char *)NULL);
			fprintf(stderr, "ironboot-agent init: exec %s: %s\n", self, strerror(errno));
			_exit(127);
		}
		/* PID 1 reaps every orphan; the agent itself only ends on a crash */
		while ((w = waitpid(-1, &st, 0)) != pid)
			if (w < 0 && errno == ECHILD)
				break;
		fprintf(stderr, "ironboot-agent init: the agent ended (%s %d); "
			"restarting it in %d s\n", WIFSIGNALED(st) ? "signal" : "status",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), AGENT_RESTART_S);
		sleep(AGENT_RESTART_S);
	}
}

/* ---- modules ----------------------------------------------------------------- */

void ib_agent_load_modules(const char *listfile)
{
	FILE *f = fopen(listfile, "re");
	char line[512];
	unsigned loaded = 0, failed = 0;

	if (!f) {
		ib_warn("agent: no module list %s: %s", listfile, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		int fd;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '/')
			continue;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) < 0) {
			/* EEXIST: built in or loaded; ENODEV/ENXIO: no such hardware */
			if (errno != EEXIST && errno != ENODEV && errno != ENXIO) {
				ib_warn("agent: module %s: %s", line, strerror(errno));
				failed++;
			}
		} else {
			loaded++;
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	ib_info("agent: %u modules loaded, %u failed", loaded, failed);
}

static size_t count_disks(int rootfd)
{
	struct ib_agent_disk *d = calloc(IB_AGENT_DISKS_MAX, sizeof(*d));
	size_t n = 0;

	if (d)
		ib_agent_disks_scan(rootfd, d, IB_AGENT_DISKS_MAX, &n);
	free(d);
	return n;
}

void ib_agent_wait_disks(int rootfd, int timeout_ms)
{
	uint64_t t0 = ib_agent_now_ms(), stable_since = t0;
	size_t last = count_disks(rootfd);

	/* SCSI scans asynchronously: wait until the list holds still for 1 s */
	while (ib_agent_now_ms() - t0 < (uint64_t)timeout_ms) {
		size_t n;
		sleep_ms(250);
		n = count_disks(rootfd);
		if (n != last) {
			last = n;
			stable_since = ib_agent_now_ms();
		} else if (ib_agent_now_ms() - stable_since >= 1000) {
			break;
		}
	}
	ib_info("agent: %zu disk(s) after %llu ms", last,
		(unsigned long long)(ib_agent_now_ms() - t0));
}

/* ---- the boot NIC ------------------------------------------------------------ */

/* An AF_INET socket for the interface ioctls. */
static int ctl_socket(void)
{
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* Sets or clears name's IFF_UP. */
static int if_set_up(int s, const char *name, bool up)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static int if_up(int s, const char *name)
{
	return if_set_up(s, name, true);
}

/* Sets one IPv4 address-type field of name (SIOCSIFADDR, ...). */
static int if_set_addr(int s, const char *name, unsigned long req, const char *text)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
		return -EINVAL;
	return ioctl(s, req, &ifr) < 0 ? -errno : 0;
}

static int add_default_route(int s, const char *name, const char *gw)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
	struct sockaddr_in *via = (struct sockaddr_in *)&rt.rt_gateway;
	char dev[IFNAMSIZ];

	snprintf(dev, sizeof(dev), "%s", name);
	dst->sin_family = mask->sin_family = via->sin_family = AF_INET;
	if (inet_pton(AF_INET, gw, &via->sin_addr) != 1)
		return -EINVAL;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = dev;
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ib_agent_dhcp_event(const char *event)
{
	const char *ifname = getenv("interface"), *ip = getenv("ip");
	const char *subnet = getenv("subnet"), *router = getenv("router");
	const char *bcast = getenv("broadcast");
	char gw[64] = "";
	int s, r = 0;

	if (!event || !ifname)
		return 1;
	if (strcmp(event, "deconfig") != 0 && strcmp(event, "bound") != 0 &&
	    strcmp(event, "renew") != 0)
		return 0;		/* leasefail, nak: udhcpc carries on */
	s = ctl_socket();
	if (s < 0)
		return 1;
	if (strcmp(event, "deconfig") == 0) {
		if_set_addr(s, ifname, SIOCSIFADDR, "0.0.0.0");
		if_up(s, ifname);
		close(s);
		return 0;
	}
	if (!ip || (r = if_set_addr(s, ifname, SIOCSIFADDR, ip)) < 0 ||
	    (subnet && (r = if_set_addr(s, ifname, SIOCSIFNETMASK, subnet)) < 0) ||
	    (bcast && (r = if_set_addr(s, ifname, SIOCSIFBRDADDR, bcast)) < 0) ||
	    (r = if_up(s, ifname)) < 0) {
		fprintf(stderr, "ironboot-agent: dhcp %s on %s: %s\n", event, ifname,
			strerror(r < 0 ? -r : EINVAL));
		close(s);
		return 1;
	}
	if (router) {
		sscanf(router, "%63s", gw);	/* the first of the list */
		r = add_default_route(s, ifname, gw);
	}
	fprintf(stderr, "ironboot-agent: %s %s/%s%s%s%s\n", ifname, ip, subnet ? subnet : "?",
		gw[0] ? " via " : "", gw, r < 0 ? " (no default route)" : "");
	close(s);
	return 0;
}

/* The NIC to boot from: the one with a->cl.mac, else the first with a
 * carrier (the first at all when none has one yet). */
static int pick_nic(struct ib_agent *a, struct ib_agent_nic *ret)
{
	struct ib_agent_nic nics[IB_AGENT_NICS_MAX];
	size_t n = 0, i;
	int s = ctl_socket();

	if (ib_agent_nics_scan(a->rootfd, nics, IB_AGENT_NICS_MAX, &n) < 0 || n == 0) {
		if (s >= 0)
			close(s);
		return -ENODEV;
	}
	for (i = 0; i < n && s >= 0; i++)
		if_up(s, nics[i].name);	/* carrier is only known when up */
	if (s >= 0)
		close(s);
	if (a->cl.has_mac) {
		for (i = 0; i < n && strcasecmp(nics[i].mac, a->cl.mac) != 0; i++)
			;
		if (i == n)
			return -ENODEV;
		*ret = nics[i];
		return 0;
	}
	sleep_ms(2000);		/* let links come up */
	ib_agent_nics_scan(a->rootfd, nics, IB_AGENT_NICS_MAX, &n);
	for (i = 0; i < n && nics[i].link != 1; i++)
		;
	*ret = nics[i < n ? i : 0];
	return 0;
}

/* busybox udhcpc on ifname until it holds a lease.  0 or -errno. */
static int run_udhcpc(const char *ifname)
{
	int st = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* -f foreground, -q quit once bound, -n fail without a lease,
		 * -t 5 discovers, -T 3 s apart; -s: this program's event mode */
		execl(BUSYBOX, "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "3",
		      "-i", ifname, "-s", DHCP_SCRIPT, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EAGAIN;
}

void ib_agent_net_up(struct ib_agent *a)
{
	struct ib_agent_nic nic;
	unsigned wait_s = 2;
	uint64_t t0 = ib_agent_now_ms();
	int s = ctl_socket(), r;

	if (s >= 0) {
		if_up(s, "lo");
		close(s);
	}
	for (unsigned n = 1;; n++) {
		r = pick_nic(a, &nic);
		if (r == 0)
			break;
		if (n % (NIC_WAIT_MS / 1000) == 0)	/* one line per NIC_WAIT_MS */
			ib_warn("agent: no NIC %s after %llu s", a->cl.has_mac ? a->cl.mac : "at all",
				(unsigned long long)(ib_agent_now_ms() - t0) / 1000);
		sleep_ms(1000);
	}
	snprintf(a->mac, sizeof(a->mac), "%.17s", nic.mac);
	ib_info("agent: boot NIC %s (%s, driver %s)", nic.name, nic.mac,
		nic.driver[0] ? nic.driver : "?");
	while ((r = run_udhcpc(nic.name)) < 0) {
		ib_warn("agent: no DHCPv4 lease on %s; retrying in %u s", nic.name, wait_s);
		sleep_ms(wait_s * 1000);
		wait_s = wait_s * 2 > DHCP_RETRY_MAX_S ? DHCP_RETRY_MAX_S : wait_s * 2;
	}
}

/* ---- power --------------------------------------------------------------------- */

/*
 * Every interface but lo down, before a reboot or power off.  Down, a
 * NIC's NAPI is off.  Kernels whose device_shutdown() breaks virtio
 * queues (virtio_dev_shutdown) can run a virtio-net poll on a broken
 * queue, which spins in virtnet_poll_cleantx for ever (reported against
 * Linux 6.18, fixed upstream by "virtio_ring: fix infinite loop in
 * virtnet_poll_cleantx when device is broken").  Seen in CI with Debian
 * 12's kernel: an agent's reboot that never came, its console ending in
 * ksoftirqd in virtnet_poll.
 */
static void nics_down(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int s = ctl_socket();

	for (i = ifs; s >= 0 && i && i->if_index; i++) {
		int r;

		if (strcmp(i->if_name, "lo") != 0 && (r = if_set_up(s, i->if_name, false)) < 0)
			ib_warn("agent: %s down: %s", i->if_name, strerror(-r));
	}
	if (ifs)
		if_freenameindex(ifs);
	if (s >= 0)
		close(s);
}

void ib_agent_power(int cmd)
{
	sync();
	nics_down();
	reboot(cmd);
	ib_err("agent: reboot(%s): %s", cmd == RB_POWER_OFF ? "power off" : "reboot",
	       strerror(errno));
	_exit(1);		/* init starts the agent again */
}
