#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// `cat /proc/self/status` on 6.18.
constexpr std::string_view kCurrentKernel =
    "Name:\tcat\n"
    "Umask:\t0022\n"
    "State:\tR (running)\n"
    "Tgid:\t4453\n"
    "Ngid:\t0\n"
    "Pid:\t4453\n"
    "PPid:\t4451\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t256\n"
    "Groups:\t \n"
    "NStgid:\t4453\n"
    "NSpid:\t4453\n"
    "NSpgid:\t4451\n"
    "NSsid:\t2330\n"
    "Kthread:\t0\n"
    "VmPeak:\t    3060 kB\n"
    "VmSize:\t    3060 kB\n"
    "VmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\n"
    "VmHWM:\t    1728 kB\n"
    "VmRSS:\t    1728 kB\n"
    "RssAnon:\t     112 kB\n"
    "RssFile:\t    1616 kB\n"
    "RssShmem:\t       0 kB\n"
    "VmData:\t     360 kB\n"
    "VmStk:\t     132 kB\n"
    "VmExe:\t      20 kB\n"
    "VmLib:\t    1528 kB\n"
    "VmPTE:\t      48 kB\n"
    "VmSwap:\t       0 kB\n"
    "HugetlbPages:\t       0 kB\n"
    "CoreDumping:\t0\n"
    "THP_enabled:\t1\n"
    "untag_mask:\t0xffffffffffffffff\n"
    "Threads:\t1\n"
    "SigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\t0000000000000000\n"
    "SigCgt:\t0000000000000000\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001fffeffffff\n"
    "CapEff:\t000001fffeffffff\n"
    "CapBnd:\t000001fffeffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tvulnerable\n"
    "SpeculationIndirectBranch:\talways enabled\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000001\n"
    "Mems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t0\n"
    "nonvoluntary_ctxt_switches:\t0\n";

// `cat /proc/2/status` on 6.18: a kernel thread prints no Vm* block.
constexpr std::string_view kKernelThread =
    "Name:\tkthreadd\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t2\n"
    "Ngid:\t0\n"
    "Pid:\t2\n"
    "PPid:\t0\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t64\n"
    "Groups:\t \n"
    "NStgid:\t2\n"
    "NSpid:\t2\n"
    "NSpgid:\t0\n"
    "NSsid:\t0\n"
    "Kthread:\t1\n"
    "Threads:\t1\n"
    "SigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\tffffffffffffffff\n"
    "SigCgt:\t0000000000000000\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "voluntary_ctxt_switches:\t61\n"
    "nonvoluntary_ctxt_switches:\t0\n";

// 3.10 (RHEL 7) layout, constructed from fs/proc/array.c and task_mmu.c of v3.10: no
// RssAnon/RssFile/RssShmem (4.5), no NSpid (4.1), no Kthread (6.x), no Umask (4.7).
constexpr std::string_view kKernel310 =
    "Name:\tbash\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t1234\n"
    "Pid:\t1234\n"
    "PPid:\t1233\n"
    "TracerPid:\t0\n"
    "Uid:\t1000\t1001\t1002\t1003\n"
    "Gid:\t1000\t1000\t1000\t1000\n"
    "FDSize:\t256\n"
    "Groups:\t10 1000 \n"
    "VmPeak:\t  116612 kB\n"
    "VmSize:\t  116612 kB\n"
    "VmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\n"
    "VmHWM:\t    3220 kB\n"
    "VmRSS:\t    3200 kB\n"
    "VmData:\t    1780 kB\n"
    "VmStk:\t     132 kB\n"
    "VmExe:\t     884 kB\n"
    "VmLib:\t    2108 kB\n"
    "VmPTE:\t      52 kB\n"
    "VmSwap:\t      16 kB\n"
    "Threads:\t1\n"
    "SigQ:\t0/15066\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000000000\n"
    "CapEff:\t0000000000000000\n"
    "CapBnd:\t0000001fffffffff\n"
    "Seccomp:\t0\n"
    "Cpus_allowed:\tffff\n"
    "Cpus_allowed_list:\t0-15\n"
    "voluntary_ctxt_switches:\t120\n"
    "nonvoluntary_ctxt_switches:\t4\n";

// 4.9 layout, constructed from v4.9 sources: RssAnon split and VmPMD (4.0–4.14) both present.
constexpr std::string_view kKernel49 =
    "Name:\tnginx\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t800\n"
    "Ngid:\t0\n"
    "Pid:\t800\n"
    "PPid:\t1\n"
    "TracerPid:\t0\n"
    "Uid:\t33\t33\t33\t33\n"
    "Gid:\t33\t33\t33\t33\n"
    "FDSize:\t64\n"
    "Groups:\t33 \n"
    "NStgid:\t800\t12\n"
    "NSpid:\t800\t12\n"
    "NSpgid:\t800\t12\n"
    "NSsid:\t800\t12\n"
    "VmPeak:\t  159744 kB\n"
    "VmSize:\t  159692 kB\n"
    "VmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\n"
    "VmHWM:\t   10320 kB\n"
    "VmRSS:\t   10300 kB\n"
    "RssAnon:\t    6004 kB\n"
    "RssFile:\t    4290 kB\n"
    "RssShmem:\t       6 kB\n"
    "VmData:\t    6516 kB\n"
    "VmStk:\t     132 kB\n"
    "VmExe:\t    1036 kB\n"
    "VmLib:\t    8460 kB\n"
    "VmPTE:\t     332 kB\n"
    "VmPMD:\t      12 kB\n"
    "VmSwap:\t     128 kB\n"
    "HugetlbPages:\t       0 kB\n"
    "Threads:\t4\n"
    "CapEff:\t0000000000000000\n";

// `text` with the line for `key` replaced by `line` (removed when `line` is empty).
std::string withLine(std::string_view text, std::string_view key, std::string_view line) {
  const std::string prefix = std::string(key) + ":";
  const size_t begin = text.find(prefix);
  const size_t end = text.find('\n', begin) + 1;
  std::string out(text);
  out.replace(begin, end - begin, line.empty() ? std::string() : std::string(line) + "\n");
  return out;
}

TEST(ParseProcStatusTest, ReadsCurrentKernelStatus) {
  const auto status = parseProcStatus(kCurrentKernel);

  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->name, "cat");
  EXPECT_EQ(status->state, 'R');
  EXPECT_EQ(status->tgid, 4453);
  EXPECT_EQ(status->ppid, 4451);
  EXPECT_EQ(status->uid, 0u);
  EXPECT_EQ(status->euid, 0u);
  EXPECT_TRUE(status->has_mm);
  EXPECT_EQ(status->vm_rss_kb, 1728u);
  EXPECT_TRUE(status->has_rss_split);
  EXPECT_EQ(status->rss_anon_kb, 112u);
  EXPECT_EQ(status->rss_file_kb, 1616u);
  EXPECT_EQ(status->rss_shmem_kb, 0u);
  EXPECT_EQ(status->vm_swap_kb, 0u);
  EXPECT_EQ(status->vm_pte_kb, 48u);
  EXPECT_EQ(status->vm_pmd_kb, 0u);
  EXPECT_EQ(status->cap_eff, 0x000001fffeffffffULL);
  EXPECT_EQ(status->kthread, false);
  EXPECT_EQ(status->threads, 1);
  EXPECT_EQ(status->ns_pid, std::vector<int32_t>{4453});
}

TEST(ParseProcStatusTest, ReadsKernelThreadWithoutMm) {
  const auto status = parseProcStatus(kKernelThread);

  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->name, "kthreadd");
  EXPECT_EQ(status->state, 'S');
  EXPECT_EQ(status->tgid, 2);
  EXPECT_EQ(status->ppid, 0);
  EXPECT_FALSE(status->has_mm);
  EXPECT_FALSE(status->has_rss_split);
  EXPECT_EQ(status->vm_rss_kb, 0u);
  EXPECT_EQ(status->kthread, true);
  EXPECT_EQ(status->cap_eff, 0x000001ffffffffffULL);
}

TEST(ParseProcStatusTest, Reads310StatusWithoutRssSplitOrKthread) {
  const auto status = parseProcStatus(kKernel310);

  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->name, "bash");
  EXPECT_EQ(status->uid, 1000u);
  EXPECT_EQ(status->euid, 1001u);
  EXPECT_TRUE(status->has_mm);
  EXPECT_EQ(status->vm_rss_kb, 3200u);
  EXPECT_FALSE(status->has_rss_split);
  EXPECT_EQ(status->rss_anon_kb, 0u);
  EXPECT_EQ(status->vm_pte_kb, 52u);
  EXPECT_EQ(status->vm_swap_kb, 16u);
  EXPECT_EQ(status->kthread, std::nullopt);
  EXPECT_TRUE(status->ns_pid.empty());
  EXPECT_EQ(status->cap_eff, 0u);
}

TEST(ParseProcStatusTest, Reads49StatusWithVmPmdAndNestedNsPid) {
  const auto status = parseProcStatus(kKernel49);

  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(status->has_rss_split);
  EXPECT_EQ(status->rss_anon_kb, 6004u);
  EXPECT_EQ(status->rss_file_kb, 4290u);
  EXPECT_EQ(status->rss_shmem_kb, 6u);
  EXPECT_EQ(status->vm_pte_kb, 332u);
  EXPECT_EQ(status->vm_pmd_kb, 12u);
  EXPECT_EQ(status->vm_swap_kb, 128u);
  EXPECT_EQ(status->threads, 4);
  EXPECT_EQ(status->ns_pid, (std::vector<int32_t>{800, 12}));
}

TEST(ParseProcStatusTest, HasMmIffVmRssIsPresent) {
  struct Case {
    std::string name;
    std::string input;
    bool has_mm;
  };
  const std::vector<Case> cases = {
      {"user process", std::string(kCurrentKernel), true},
      {"kernel thread", std::string(kKernelThread), false},
      {"zombie", "Name:\tdefunct\nState:\tZ (zombie)\nTgid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
       false},
      {"VmRSS alone", withLine(kKernelThread, "Threads", "VmRSS:\t  4 kB"), true},
      {"Vm block without VmRSS", withLine(kCurrentKernel, "VmRSS", ""), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto status = parseProcStatus(c.input);

    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(status->has_mm, c.has_mm);
  }
}

TEST(ParseProcStatusTest, DecodesTheKernelEscapesInName) {
  struct Case {
    std::string name;
    std::string line;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"escaped newline", "Name:\tx\\ny", "x\ny"},
      {"escaped backslash", "Name:\ta\\\\b", "a\\b"},
      {"backslash then n", "Name:\ta\\\\nb", "a\\nb"},
      {"octal escape", "Name:\tmy\\040cmd", "my cmd"},
      {"tab kept raw", "Name:\ta\tb", "a\tb"},
      {"blanks at the ends kept", "Name:\t a b ", " a b "},
      {"parentheses and colon", "Name:\ta) b (c:d", "a) b (c:d"},
      {"bytes that are not UTF-8", "Name:\t\xff\xfe bad", "\xff\xfe bad"},
      {"empty name", "Name:\t", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto status = parseProcStatus(withLine(kCurrentKernel, "Name", c.line));

    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(status->name, c.expected);
  }
}

TEST(ParseProcStatusTest, RequiresNameStateTgidPpidAndUid) {
  for (const std::string_view key : {"Name", "State", "Tgid", "PPid", "Uid"}) {
    SCOPED_TRACE(key);

    const auto status = parseProcStatus(withLine(kCurrentKernel, key, ""));

    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, Errc::kParse);
    EXPECT_NE(status.error().message.find(std::string(key)), std::string::npos)
        << status.error().message;
  }
}

// A process being killed: SIGKILL (signal 9, bit 8) pending, per thread and shared.
TEST(ParseProcStatusTest, ReadsPendingSignals) {
  const auto quiet = parseProcStatus(kCurrentKernel);
  ASSERT_TRUE(quiet);
  EXPECT_EQ(quiet->sig_pnd, 0u);
  EXPECT_EQ(quiet->shd_pnd, 0u);

  const auto killed =
      parseProcStatus(withLine(withLine(kCurrentKernel, "SigPnd", "SigPnd:\t0000000000000100"),
                               "ShdPnd", "ShdPnd:\t0000000000004100"));
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_EQ(killed->sig_pnd, 0x100u);
  EXPECT_EQ(killed->shd_pnd, 0x4100u);
}

TEST(ParseProcStatusTest, RejectsMalformedValues) {
  struct Case {
    std::string name;
    std::string key;
    std::string line;
  };
  const std::vector<Case> cases = {
      {"state without letter", "State", "State:\t(running)"},
      {"state empty", "State", "State:\t"},
      {"state two letters", "State", "State:\tRS (running)"},
      {"tgid negative", "Tgid", "Tgid:\t-1"},
      {"tgid above int32", "Tgid", "Tgid:\t2147483648"},
      {"ppid not a number", "PPid", "PPid:\tx"},
      {"uid with two values", "Uid", "Uid:\t0\t0"},
      {"uid with five values", "Uid", "Uid:\t0\t0\t0\t0\t0"},
      {"uid negative", "Uid", "Uid:\t-1\t0\t0\t0"},
      {"uid above uint32", "Uid", "Uid:\t4294967296\t0\t0\t0"},
      {"rss in MB", "VmRSS", "VmRSS:\t    12 MB"},
      {"rss not a number", "VmRSS", "VmRSS:\t   abc kB"},
      {"rss without number", "RssAnon", "RssAnon:\t kB"},
      {"swap overflows", "VmSwap", "VmSwap:\t99999999999999999999 kB"},
      {"cap not hex", "CapEff", "CapEff:\tzz"},
      {"sigpnd not hex", "SigPnd", "SigPnd:\t00000000000001g0"},
      {"shdpnd empty", "ShdPnd", "ShdPnd:\t"},
      {"kthread 2", "Kthread", "Kthread:\t2"},
      {"threads negative", "Threads", "Threads:\t-1"},
      {"nspid empty", "NSpid", "NSpid:\t"},
      {"nspid with garbage", "NSpid", "NSpid:\t1\tx"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto status = parseProcStatus(withLine(kCurrentKernel, c.key, c.line));

    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, Errc::kParse);
  }
}

TEST(ParseProcStatusTest, ErrorNamesTheKeyAndValue) {
  const auto status = parseProcStatus(withLine(kCurrentKernel, "Uid", "Uid:\t0\t0"));

  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "status: Uid: has 2 values, expected 4: '0\\x090'");
}

TEST(ParseProcStatusTest, IgnoresUnknownKeysAndLinesWithoutKey) {
  const std::string text = std::string(kKernel310) + "Future_field:\tvalue: odd\n\nno colon\n";

  const auto status = parseProcStatus(text);

  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->name, "bash");
}

TEST(ParseProcStatusTest, RejectsEmptyAndBinaryInput) {
  for (const std::string& input : {std::string(), std::string("\x00\xff\n:\x01", 5)}) {
    const auto status = parseProcStatus(input);

    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, Errc::kParse);
  }
}

}  // namespace
}  // namespace oomkit::core
