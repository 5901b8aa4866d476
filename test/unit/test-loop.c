// SPDX-License-Identifier: GPL-2.0-only
/* The event loop (common/loop.h): a listener at the descriptor limit does
 * not keep the loop awake. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "loop.h"

static struct rlimit saved;
static int hogs[4096], nhogs;

static void restore(void)
{
	while (nhogs > 0)
		close(hogs[--nhogs]);
	setrlimit(RLIMIT_NOFILE, &saved);
}

/* A listening unix socket (abstract name, nothing on disk). */
static int listener(struct sockaddr_un *sa, socklen_t *sl)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
		 "xcrs-test-loop-%d", (int)getpid());
	*sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  strlen(sa->sun_path + 1));
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)sa, *sl), 0, "%s",
		     strerror(errno));
	cr_assert_eq(listen(fd, 16), 0);
	return fd;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0);
}

/* At the limit, a pending connection is taken and closed: the listener
 * is no longer ready (it would wake the loop at once, forever), the
 * client sees the connection end, the refusal is counted, and once
 * descriptors are free again connections are accepted. */
Test(loop, accept_at_the_descriptor_limit_sheds_the_connection,
     .fini = restore)
{
	struct sockaddr_un sa;
	socklen_t sl;
	struct loop *l;
	struct rlimit lim;
	int lfd, cl, fd;
	char b;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	cr_assert_eq(loop_new(&l), 0);
	lfd = listener(&sa, &sl);
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect(cl, (struct sockaddr *)&sa, sl), 0);
	cr_assert_eq(readable(lfd), 1, "a connection is pending");

	/* every descriptor taken */
	lim = saved;
	lim.rlim_cur = 64;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	while (nhogs < (int)(sizeof(hogs) / sizeof(hogs[0]))) {
		int h = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (h < 0)
			break;
		hogs[nhogs++] = h;
	}
	cr_assert_eq(errno, EMFILE);

	fd = loop_accept(l, lfd, NULL, NULL, "test");
	cr_expect_eq(fd, -1);
	cr_expect_eq(errno, EMFILE);
	cr_expect_eq(loop_shed(l), 1);
	cr_expect_eq(readable(lfd), 0,
		     "the listener is not ready again: the loop would spin");
	{
		struct pollfd p = { .fd = cl, .events = POLLIN };

		cr_expect_eq(poll(&p, 1, 1000), 1, "the client sees the end");
		cr_expect_eq(recv(cl, &b, 1, MSG_DONTWAIT), 0);
	}

	/* descriptors back: the next connection is accepted */
	restore();
	close(cl);
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect(cl, (struct sockaddr *)&sa, sl), 0);
	fd = loop_accept(l, lfd, NULL, NULL, "test");
	cr_expect_geq(fd, 0);
	cr_expect(fcntl(fd, F_GETFL) & O_NONBLOCK, "non-blocking");
	cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
	close(fd);
	close(cl);
	close(lfd);
	loop_free(l);
}
