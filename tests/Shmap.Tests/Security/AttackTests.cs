using System.Globalization;
namespace Shmap.Tests.Security;

/// <summary>
/// The attacks of issue 11, each by a real second user against the real CLI run as root, in a
/// private mount namespace (see <see cref="HostileHost"/>). Every attack must be refused with a
/// clear error (the CLI's exit 5 for untrusted files and lock timeouts) or have no effect.
/// </summary>
[Collection(nameof(HostileHostCollection))]
public sealed class AttackTests(HostileHost host)
{
    // A shared directory as /tmp is: root's, world-writable and sticky; the attacker may add files.
    private const string SharedDirectory = "D=/dev/shm/shared; mkdir -m 1777 $D\n" +
        "printf 'k\\tv1\\n' > /dev/shm/in.tsv; chmod 644 /dev/shm/in.tsv\n";

    [RootFact]
    public void Publish_LockAndControlFilesSymlinkedToAVictim_RefusedAndVictimUntouched()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            echo precious > /dev/shm/victim; chmod 600 /dev/shm/victim
            as_attacker ln -s /dev/shm/victim $D/x.wlock
            as_attacker ln -s /dev/shm/victim $D/x.lock
            SHMAP share x /dev/shm/in.tsv --dir $D 2>/dev/shm/err; mark exit $?
            mark victim "$(cat /dev/shm/victim)"; mark err "$(cat /dev/shm/err)"
            as_attacker rm $D/x.wlock; SHMAP share x /dev/shm/in.tsv --dir $D 2>/dev/shm/err; mark exit2 $?
            mark err2 "$(cat /dev/shm/err)"; mark victim2 "$(cat /dev/shm/victim)"
            """);
        Assert.Equal("5", r.Mark("exit"));
        Assert.Contains("symbolic link", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("precious", r.Mark("victim"));
        Assert.Equal("5", r.Mark("exit2"));
        Assert.Contains("x.lock", r.Mark("err2"), StringComparison.Ordinal);
        Assert.Equal("precious", r.Mark("victim2"));
    }

    [RootFact]
    public void Open_SnapshotSymlinkedToAnotherMap_Refused()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            printf 'k\tsecret\n' > /dev/shm/s.tsv; SHMAP share private /dev/shm/s.tsv --dir $D; mark share $?
            as_attacker ln -s $D/private.shmap $D/y.shmap
            SHMAP get y k --dir $D >/dev/shm/out 2>/dev/shm/err; mark exit $?
            mark out "$(cat /dev/shm/out)"; mark err "$(cat /dev/shm/err)"
            """);
        Assert.Equal("0", r.Mark("share"));
        Assert.Equal("5", r.Mark("exit"));
        Assert.DoesNotContain("secret", r.Mark("out"), StringComparison.Ordinal);
        Assert.Contains("symbolic link", r.Mark("err"), StringComparison.Ordinal);
    }

    [RootFact]
    public void Publish_DirectoryIsASymlinkToTheAttackersDirectory_Refused()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            as_attacker mkdir -m 700 /dev/shm/theirs; as_attacker chmod 777 /dev/shm/theirs
            as_attacker ln -s /dev/shm/theirs /dev/shm/link
            SHMAP share x /dev/shm/in.tsv --dir /dev/shm/link 2>/dev/shm/err; mark exit $?
            mark err "$(cat /dev/shm/err)"; mark files "$(ls -A /dev/shm/theirs | wc -l)"
            """);
        Assert.Equal("5", r.Mark("exit"));
        Assert.Contains("symbolic link", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("0", r.Mark("files"));
    }

    [RootFact]
    public void Publish_DefaultDirectorySquattedByAnotherUser_RefusedNamingOwnerAndFix()
    {
        ScriptResult r = host.Run("""
            printf 'k\tv\n' > /dev/shm/in.tsv
            as_attacker mkdir -m 777 /dev/shm/shmap-0
            SHMAP share x /dev/shm/in.tsv 2>/dev/shm/err; mark exit $?; mark err "$(cat /dev/shm/err)"
            mark files "$(ls -A /dev/shm/shmap-0 | wc -l)"
            """);
        Assert.Equal("5", r.Mark("exit"));
        Assert.Contains("/dev/shm/shmap-0", r.Mark("err"), StringComparison.Ordinal);
        Assert.Contains($"belongs to user {host.Uid}", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("0", r.Mark("files"));
    }

    [RootFact]
    public void Publish_WorldWritableDirectoryWithoutStickyBit_Refused()
    {
        ScriptResult r = host.Run("""
            printf 'k\tv\n' > /dev/shm/in.tsv; mkdir -m 777 /dev/shm/open; chmod 777 /dev/shm/open
            SHMAP share x /dev/shm/in.tsv --dir /dev/shm/open 2>/dev/shm/err; mark exit $?; mark err "$(cat /dev/shm/err)"
            mkdir -m 700 /dev/shm/good; SHMAP share x /dev/shm/in.tsv --dir /dev/shm/good; mark good $?
            """);
        Assert.Equal("5", r.Mark("exit"));
        Assert.Contains("writable by group or other", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("0", r.Mark("good"));
    }

    [RootFact]
    public void SharedStickyDirectory_NameSquattedByAnotherUser_OpenAndPublishRefusedUnlessTrusted()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            mkdir -m 700 /dev/shm/forge; printf 'k\tforged\n' > /dev/shm/f.tsv
            SHMAP share z /dev/shm/f.tsv --dir /dev/shm/forge; chmod 755 /dev/shm/forge; chmod 644 /dev/shm/forge/*
            as_attacker cp /dev/shm/forge/z.shmap $D/z.shmap
            SHMAP get z k --dir $D >/dev/shm/out 2>/dev/shm/err; mark get $?; mark out "$(cat /dev/shm/out)"; mark err "$(cat /dev/shm/err)"
            SHMAP share z /dev/shm/in.tsv --dir $D --force 2>/dev/shm/err; mark publish $?
            SHMAP get z k --dir $D --trust-owner $ATTACKER_UID >/dev/shm/out 2>&1; mark trusted $?; mark trustedout "$(cat /dev/shm/out)"
            """);
        Assert.Equal("5", r.Mark("get"));
        Assert.DoesNotContain("forged", r.Mark("out"), StringComparison.Ordinal);
        Assert.Contains($"belongs to user {host.Uid}", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("5", r.Mark("publish"));
        Assert.Equal("0", r.Mark("trusted"));
        Assert.Equal("forged", r.Mark("trustedout"));
    }

    [RootFact]
    public void Open_SnapshotIsAFifo_RefusedAtOnce()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            as_attacker mkfifo $D/f.shmap
            SHMAP get f k --dir $D 2>/dev/shm/err; mark get $?; mark err "$(cat /dev/shm/err)"
            SHMAP share f /dev/shm/in.tsv --dir $D --force 2>/dev/shm/err; mark publish $?
            """, timeoutSeconds: 60);
        Assert.Equal("5", r.Mark("get"));
        Assert.Contains("FIFO", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("5", r.Mark("publish"));
    }

    [RootFact]
    public void Open_SnapshotWritableByOthers_RefusedBeforeMapping()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            SHMAP share t /dev/shm/in.tsv --dir $D; chmod 666 $D/t.shmap
            SHMAP get t k --dir $D 2>/dev/shm/err; mark get $?; mark err "$(cat /dev/shm/err)"
            as_attacker truncate -s 100 $D/t.shmap; SHMAP get t k --dir $D 2>/dev/shm/err; mark after $?
            """);
        Assert.Equal("5", r.Mark("get"));
        Assert.Contains("writable by group or other", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("5", r.Mark("after"));
    }

    [RootFact]
    public void Publish_ReaderHoldsTheControlFilesLock_PublishGoesOn()
    {
        // Readers of a map shared with them can open N.lock (and flock it); publishers lock N.wlock,
        // which is 0600, so a reader cannot freeze them.
        ScriptResult r = host.Run("""
            D=/dev/shm/pub; mkdir -m 755 $D; printf 'k\tv\n' > /dev/shm/in.tsv
            SHMAP share r /dev/shm/in.tsv --dir $D --mode 644; mark share $?
            as_attacker flock $D/r.lock sleep 30 & sleep 1
            as_attacker flock $D/r.wlock true 2>/dev/shm/err; mark wlock $?
            start=$(date +%s%N); SHMAP share r /dev/shm/in.tsv --dir $D --force; mark again $?
            mark ms $(( ($(date +%s%N) - start) / 1000000 ))
            kill %1 2>/dev/null
            """);
        Assert.Equal("0", r.Mark("share"));
        Assert.NotEqual("0", r.Mark("wlock"));
        Assert.Equal("0", r.Mark("again"));
        Assert.True(int.Parse(r.Mark("ms"), CultureInfo.InvariantCulture) < 4000, r.ToString());
    }

    [RootFact]
    public void Publish_WriterLockHeldByAnotherProcess_TimesOutNamingItsPid()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            SHMAP share w /dev/shm/in.tsv --dir $D; mark share $?
            flock $D/w.wlock sleep 30 & holder=$!; sleep 1
            holderpid=$(pgrep -P $holder sleep || echo $holder)
            mark holder "$holder $holderpid"
            SHMAP share w /dev/shm/in.tsv --dir $D --force 2>/dev/shm/err; mark exit $?; mark err "$(cat /dev/shm/err)"
            kill $holder 2>/dev/null
            """);
        Assert.Equal("0", r.Mark("share"));
        Assert.Equal("5", r.Mark("exit"));
        string err = r.Mark("err");
        Assert.Contains("Timed out", err, StringComparison.Ordinal);
        Assert.Contains(r.Mark("holder").Split(' '), pid => err.Contains($"process {pid} holds it", StringComparison.Ordinal));
    }

    [RootFact]
    public void Publish_ControlFileClaimsAnImpossibleVersion_Refused()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            SHMAP share v /dev/shm/in.tsv --dir $D; mark share $?
            # 2^63-2 at offset 24 (version), written by the owner: no publisher reaches it.
            printf '\xfe\xff\xff\xff\xff\xff\xff\x7f' | dd of=$D/v.lock bs=1 seek=24 conv=notrunc status=none
            SHMAP share v /dev/shm/in.tsv --dir $D --force 2>/dev/shm/err; mark exit $?; mark err "$(cat /dev/shm/err)"
            chmod 666 $D/v.lock; SHMAP share v /dev/shm/in.tsv --dir $D --force 2>/dev/shm/err; mark writable $?
            """);
        Assert.Equal("0", r.Mark("share"));
        Assert.Equal("5", r.Mark("exit"));
        Assert.Contains("no publisher could have reached", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("5", r.Mark("writable"));
    }

    [RootFact]
    public void Load_SourceChangedWhileImported_PublishesOnlyVerifiedBytes()
    {
        ScriptResult r = host.Run("""
            D=/dev/shm/mine; mkdir -m 700 $D
            for i in $(seq 1 20000); do printf 'key%05d\tvalue %d with some text\n' $i $i; done > /dev/shm/big.tsv
            SHMAP share src /dev/shm/big.tsv --dir $D; SHMAP dump src /dev/shm/src.shmap --dir $D
            chmod 666 /dev/shm/src.shmap; size=$(stat -c %s /dev/shm/src.shmap)
            as_attacker timeout 200 bash -c "while true; do off=\$((RANDOM * 32768 % $size + 200)); printf '\x5a' | dd of=/dev/shm/src.shmap bs=1 seek=\$off conv=notrunc status=none; done" &
            bad=0; published=0
            for t in $(seq 1 24); do
              SHMAP load dst /dev/shm/src.shmap --dir $D --force >/dev/null 2>&1 && published=$((published+1))
              SHMAP dump dst /dev/shm/out.shmap --dir $D >/dev/null 2>&1 && { SHMAP verify /dev/shm/out.shmap >/dev/null 2>&1 || bad=$((bad+1)); }
            done
            kill %1; mark published $published; mark bad $bad
            """, timeoutSeconds: 240);
        Assert.Equal("0", r.Mark("bad"));
        Assert.True(int.Parse(r.Mark("published"), CultureInfo.InvariantCulture) >= 0, r.ToString());
    }

    [RootFact]
    public void Share_TruncatedGzip_Exit3AndNothingPublished()
    {
        ScriptResult r = host.Run("""
            D=/dev/shm/mine; mkdir -m 700 $D
            for i in $(seq 1 20000); do printf 'key%05d\tvalue %d\n' $i $i; done | gzip > /dev/shm/full.tsv.gz
            size=$(stat -c %s /dev/shm/full.tsv.gz); head -c $((size * 6 / 10)) /dev/shm/full.tsv.gz > /dev/shm/cut.tsv.gz
            SHMAP share cut /dev/shm/cut.tsv.gz --dir $D 2>/dev/shm/err; mark exit $?; mark err "$(cat /dev/shm/err)"
            mark files "$(ls -A $D | grep -c '^cut.shmap$')"
            SHMAP share full /dev/shm/full.tsv.gz --dir $D; mark full $?; mark count "$(SHMAP count full --dir $D)"
            """, timeoutSeconds: 120);
        Assert.Equal("3", r.Mark("exit"));
        Assert.Contains("gzip", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("0", r.Mark("files"));
        Assert.Equal("0", r.Mark("full"));
        Assert.Contains("20000", r.Mark("count").Replace(",", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [RootFact]
    public void BidiName_RefusedOnShareAndShownEscapedByList()
    {
        ScriptResult r = host.Run(SharedDirectory + """
            SHMAP share "$(printf 'abc\u202etxt.exe')" /dev/shm/in.tsv --dir $D 2>/dev/shm/err; mark exit $?; mark err "$(cat /dev/shm/err)"
            SHMAP share plain /dev/shm/in.tsv --dir $D; cp $D/plain.shmap "$D/$(printf 'evil\u202egpj').shmap"
            SHMAP list --dir $D > /dev/shm/out 2>&1; mark list $?
            mark raw "$(grep -c "$(printf '\u202e')" /dev/shm/out)"; mark plain "$(grep -c 'plain' /dev/shm/out)"
            """);
        Assert.Equal("2", r.Mark("exit"));
        Assert.Contains("U+202E", r.Mark("err"), StringComparison.Ordinal);
        Assert.Equal("0", r.Mark("list"));
        Assert.Equal("0", r.Mark("raw"));
        Assert.Equal("1", r.Mark("plain")); // the listing goes on; a stem that is no valid name is left out, never shown raw
    }

    [RootFact]
    public void DefaultDirectory_TwoUsersPublishTheSameName_EachReadsTheirOwnWithNoSetup()
    {
        ScriptResult r = host.Run("""
            printf 'k\troot-value\n' > /dev/shm/root.tsv; printf 'k\tuser-value\n' > /dev/shm/user.tsv; chmod 644 /dev/shm/*.tsv
            cli_as_attacker share same /dev/shm/user.tsv >/dev/null 2>/dev/shm/err; mark user $?; mark usererr "$(cat /dev/shm/err)"
            SHMAP share same /dev/shm/root.tsv; mark root $?
            mark rootget "$(SHMAP get same k)"; mark userget "$(cli_as_attacker get same k)"
            mark dirs "$(ls -d /dev/shm/shmap-* | tr '\n' ' ')"
            """, timeoutSeconds: 120);
        Assert.Equal("0", r.Mark("user"));
        Assert.Equal("0", r.Mark("root"));
        Assert.Equal("root-value", r.Mark("rootget"));
        Assert.Equal("user-value", r.Mark("userget"));
        Assert.Contains($"/dev/shm/shmap-{host.Uid}", r.Mark("dirs"), StringComparison.Ordinal);
        Assert.Contains("/dev/shm/shmap-0", r.Mark("dirs"), StringComparison.Ordinal);
    }
}
