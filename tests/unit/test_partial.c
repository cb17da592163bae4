/* Names of uploads in progress (src/apps/partial.c) and the TFTP server's
 * name check that refuses them (src/apps/tftp/root.c): recv's part files
 * ".NAME.ibxpart" and tftpd's temporaries ".tftp-upload.*", as any path
 * component, are never read or written by name; look-alikes are. */
//unit-sources: src/apps/partial.c src/apps/tftp/root.c src/apps/tftp/stale.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "partial.h"
#include "tftp/root.h"

static bool name(const char *s) { return partial_name(s, strlen(s)); }

static void test_partial_names(void **state)
{
    (void)state;
    assert_true(name(".x.ibxpart"));
    assert_true(name(".a file.tar.gz.ibxpart"));
    assert_true(name(".tftp-upload.0123456789ab"));
    assert_true(name(".tftp-upload."));
    assert_false(name(".ibxpart"));          /* no NAME */
    assert_false(name("..ibxpart"));         /* ".NAME" must be non-empty */
    assert_false(name("x.ibxpart"));         /* not hidden: not recv's */
    assert_false(name(".x.ibxpart.txt"));
    assert_false(name(".tftp-upload"));
    assert_false(name("tftp-upload.1"));
    assert_false(name(".env"));
    assert_false(name(""));
    /* a component of a longer buffer: only len bytes count */
    assert_true(partial_name(".x.ibxpart/rest", 10));
    assert_false(partial_name(".x.ibxpart", 9));
}

static void test_partial_paths(void **state)
{
    (void)state;
    assert_true(partial_path("/.x.ibxpart"));
    assert_true(partial_path("a/b/.x.ibxpart"));
    assert_true(partial_path("/.d.ibxpart/inside.txt"));
    assert_true(partial_path("dir/.tftp-upload.00ff00ff00ff"));
    assert_false(partial_path("/"));
    assert_false(partial_path(""));
    assert_false(partial_path("/a/b.ibxpart/c"));
    assert_false(partial_path("//a//.ibxpart//"));
}

static void test_tftp_name_check(void **state)
{
    (void)state;
    const char *rel = NULL;
    assert_int_equal(root_check_name("/boot/pxelinux.0", &rel), 0);
    assert_string_equal(rel, "boot/pxelinux.0");
    assert_int_equal(root_check_name(".x.ibxpart", &rel), -EACCES);
    assert_int_equal(root_check_name("///dir/.y.ibxpart", &rel), -EACCES);
    assert_int_equal(root_check_name(".tftp-upload.0123456789ab", &rel), -EACCES);
    assert_int_equal(root_check_name(".d.ibxpart/x", &rel), -EACCES);
    assert_int_equal(root_check_name("dir/x.ibxpart", &rel), 0);
    assert_int_equal(root_check_name(".hidden", &rel), 0);   /* tftpd: not hidden */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_names),
        cmocka_unit_test(test_partial_paths),
        cmocka_unit_test(test_tftp_name_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
