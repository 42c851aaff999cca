#!/usr/bin/perl
# net-smpp-smsc.pl: a second SMSC test peer for giftgate, built on Debian's
# Perl module Net::SMPP (libnet-smpp-perl) instead of the npm `smpp` package
# that scripts/smsc-sim/smsc-sim.js uses. It speaks the same line protocol on
# stdin/stdout (see scripts/smsc-sim/README.md) for a subset of the commands,
# so that tests/support/sim_process.hpp can drive either peer; what it does
# and how it differs is in tests/peers/README.md.
#
#   perl tests/peers/net-smpp-smsc.pl [--port 0] [--system-id ID] [--debug]
#
# It listens on 127.0.0.1 only (port 0: an ephemeral one), prints
# `ready port=N tls=0`, and exits on `quit`, on EOF on stdin and on SIGTERM or
# SIGINT.
#
# How Net::SMPP is used. Its PDU functions are synchronous and read the
# socket with blocking sysread calls, which a peer serving stdin and several
# connections at once cannot afford. So each accepted socket is an object of
# a small subclass of Net::SMPP that overrides two methods:
#   - sysread: Net::SMPP's read_pdu() pulls its octets from a frame this
#     script has already read off the socket without blocking (whole PDUs
#     only, split on command_length), so read_pdu() decodes the header, the
#     mandatory fields and the TLVs but never waits for the network;
#   - syswrite: every PDU Net::SMPP builds (bind_*_resp, submit_sm_resp,
#     deliver_sm, data_sm, enquire_link_resp, ...) is queued and written as
#     the socket accepts it.
# Requests to the ESME are sent with async => 1 (Net::SMPP would otherwise
# wait for the response itself). Optional parameters go through Net::SMPP's
# encode_optional_params: known ones by name (their value is the raw octets),
# vendor tags by number. A numeric tag takes an integer, not octets, and
# Net::SMPP picks its width from the value (1 octet for -127..126, 2 for up
# to 32766, else 4), so the values of vendor TLVs below are chosen in the
# range that gives the width wanted. No PDU is packed by hand here.

use strict;
use warnings;

use Encode ();
use Errno ();
use IO::Select;
use POSIX ();
use Time::HiRes ();

BEGIN {
  unless (eval { require Net::SMPP; 1 }) {
    print STDERR "net-smpp-smsc: Net::SMPP not found (Debian package libnet-smpp-perl): $@";
    exit 3;
  }
}

use constant MAX_PDU => 65536;              # longer command_length: framing error
use constant MAX_OUT => 8 * 1024 * 1024;    # queued output per connection
use constant MAX_VENDOR_TLVS => 1000;       # resp_tlvs, bind_resp_tlvs, mo tlvs=
use constant {
  ST_INVCMDLEN => 0x02, ST_INVCMDID => 0x03, ST_INVBNDSTS => 0x04, ST_INVTLVSTREAM => 0xC0,
};

my %MESSAGE_STATE = (
  ENROUTE => 1, DELIVRD => 2, EXPIRED => 3, DELETED => 4, UNDELIV => 5, ACCEPTD => 6,
  UNKNOWN => 7, REJECTD => 8,
);

# ---------------------------------------------------------------------------
# Command line

my %args = (port => 0, system_id => 'perl-smsc', debug => 0);
{
  my @argv = @ARGV;
  while (@argv) {
    my $a = shift @argv;
    if ($a eq '--port' && @argv) {
      $args{port} = shift @argv;
      usage("bad --port") unless $args{port} =~ /^\d+$/ && $args{port} <= 65535;
    } elsif ($a eq '--system-id' && @argv) {
      $args{system_id} = shift @argv;
    } elsif ($a eq '--debug') {
      $args{debug} = 1;
    } else {
      usage("unknown argument $a");
    }
  }
}

sub usage {
  print STDERR "net-smpp-smsc: $_[0]\n",
    "usage: perl net-smpp-smsc.pl [--port 0] [--system-id ID] [--debug]\n";
  exit 2;
}

# ---------------------------------------------------------------------------
# Output: one line per event, values percent-encoded as encodeURIComponent.

my $started = Time::HiRes::time();
$| = 1;

sub elapsed_ms {
  my $t = sprintf('%.3f', (Time::HiRes::time() - $started) * 1000);
  $t =~ s/0+$//;
  $t =~ s/\.$//;
  return $t;
}

# A value's UTF-8 (a string of octets reads as latin1, as the node peer reads
# C-strings), every octet but A-Z a-z 0-9 - _ . ! ~ * ' ( ) escaped.
sub enc {
  my ($v) = @_;
  $v = '' unless defined $v;
  $v = "$v";
  utf8::encode($v);
  $v =~ s/([^A-Za-z0-9\-_.!~*'()])/sprintf('%%%02X', ord $1)/ge;
  return $v;
}

sub format_line {
  my ($name, @kv) = @_;
  my $line = $name;
  while (@kv) {
    my ($k, $v) = splice @kv, 0, 2;
    next unless defined $v;
    $line .= " $k=" . enc($v);
  }
  return $line;
}

sub write_line {
  my ($line) = @_;
  print STDOUT $line, "\n" or exit 0;    # the driver is gone
}

sub emit {
  my ($name, @kv) = @_;
  write_line(format_line($name, @kv, t => elapsed_ms()));
}

sub debug {
  print STDERR "net-smpp-smsc: $_[0]\n" if $args{debug};
}

# ---------------------------------------------------------------------------
# Settings: all checked before any is applied.

sub int_in {
  my ($min, $max) = @_;
  return sub {
    my ($v) = @_;
    my $n;
    if ($v =~ /^0x([0-9a-fA-F]{1,13})$/) {
      $n = hex $1;
    } elsif ($v =~ /^[0-9]{1,15}$/) {
      $n = $v + 0;
    }
    die "expected an integer $min..$max\n" unless defined $n && $n >= $min && $n <= $max;
    return $n;
  };
}

sub enum_of {
  my @values = @_;
  return sub {
    my ($v) = @_;
    die 'expected one of ' . join('|', @values) . "\n" unless grep { $_ eq $v } @values;
    return $v;
  };
}

my @SETTING_KEYS = qw(ids id_start receipt_ids receipts receipt_stat receipt_via resp_tlvs
  bind_resp_tlvs refuse_part refuse_status submit_status);
my %SETTINGS = (
  ids            => [enum_of(qw(dec hex)), 'dec'],
  id_start       => [int_in(0, 2**52), 4096],
  receipt_ids    => [enum_of(qw(same dec hex)), 'same'],
  receipts       => [enum_of(qw(on off)), 'off'],
  receipt_stat   => [sub { $_[0] =~ /^[A-Z]{1,10}$/ or die "expected a word like DELIVRD\n"; $_[0] },
                     'DELIVRD'],
  receipt_via    => [enum_of(qw(deliver_sm data_sm)), 'deliver_sm'],
  resp_tlvs      => [int_in(0, MAX_VENDOR_TLVS), 0],
  bind_resp_tlvs => [int_in(0, MAX_VENDOR_TLVS), 0],
  refuse_part    => [int_in(0, 255), 0],
  refuse_status  => [int_in(0, 0xFFFFFFFF), 0x45],
  submit_status  => [int_in(0, 0xFFFFFFFF), 0],
);

my %settings;
my $next_id;    # number of the next message id

sub reset_settings {
  %settings = map { $_ => $SETTINGS{$_}[1] } @SETTING_KEYS;
  $next_id = $settings{id_start};
}
reset_settings();

my %stats;
my @STAT_KEYS = qw(binds submits submit_ok submit_failed delivers data_sms receipts
  deliver_resps data_sm_resps generic_nacks connects sessions messages enquire_links unbinds
  session_errors partials);
$stats{$_} = 0 for @STAT_KEYS;

# ---------------------------------------------------------------------------
# Character sets

# GSM 03.38 default alphabet (unpacked septets) and its extension table.
my $GSM_BASIC =
    "\@\x{A3}\$\x{A5}\x{E8}\x{E9}\x{F9}\x{EC}\x{F2}\x{C7}\n\x{D8}\x{F8}\r\x{C5}\x{E5}"
  . "\x{394}_\x{3A6}\x{393}\x{39B}\x{3A9}\x{3A0}\x{3A8}\x{3A3}\x{398}\x{39E}\x{1B}\x{C6}\x{E6}\x{DF}\x{C9}"
  . " !\"#\x{A4}%&'()*+,-./0123456789:;<=>?"
  . "\x{A1}ABCDEFGHIJKLMNOPQRSTUVWXYZ\x{C4}\x{D6}\x{D1}\x{DC}\x{A7}"
  . "\x{BF}abcdefghijklmnopqrstuvwxyz\x{E4}\x{F6}\x{F1}\x{FC}\x{E0}";
die "GSM table is not 128 characters\n" unless length($GSM_BASIC) == 128;
my %GSM_EXTENSION = (
  0x0A => "\f", 0x14 => '^', 0x28 => '{', 0x29 => '}', 0x2F => '\\', 0x3C => '[', 0x3D => '~',
  0x3E => ']', 0x40 => '|', 0x65 => "\x{20AC}",
);

sub decode_gsm {
  my ($octets) = @_;
  my @o = unpack 'C*', $octets;
  my $out = '';
  for (my $i = 0; $i < @o; ++$i) {
    my $s = $o[$i];
    if ($s > 0x7F) {
      $out .= '?';
    } elsif ($s == 0x1B && $i + 1 < @o) {
      my $n = $o[++$i] & 0x7F;
      $out .= exists $GSM_EXTENSION{$n} ? $GSM_EXTENSION{$n} : substr($GSM_BASIC, $n, 1);
    } elsif ($s == 0x1B) {
      $out .= ' ';
    } else {
      $out .= substr($GSM_BASIC, $s, 1);
    }
  }
  return $out;
}

sub decode_ucs2 {
  my ($octets) = @_;
  my $odd = length($octets) % 2;
  my $text = Encode::decode('UTF-16BE', substr($octets, 0, length($octets) - $odd));
  return $odd ? "$text\x{FFFD}" : $text;
}

sub decode_text {
  my ($coding, $octets) = @_;
  return decode_ucs2($octets) if $coding == 0x08;
  return decode_gsm($octets) if $coding == 0x00;
  return $octets;    # latin1 and anything else: octets as characters
}

# Octets for a C-string field or text given on the command line: latin1 when
# every character fits, else UTF-8.
sub to_octets {
  my ($s) = @_;
  my $copy = $s;
  return $copy if utf8::downgrade($copy, 1);
  utf8::encode($copy);
  return $copy;
}

# ---------------------------------------------------------------------------
# Connections

# The accepted sockets' class: Net::SMPP with its socket I/O redirected to
# this script's buffers (see the header comment).
package GiftGate::NetSmppConn;
our @ISA = ('Net::SMPP');

sub sysread {
  my ($me, undef, $want, $offset) = @_;
  $offset = 0 unless defined $offset;
  my $frame = \${*$me}{gg_frame};
  $$frame = '' unless defined $$frame;
  my $chunk = substr($$frame, 0, $want, '');
  $_[1] = '' unless defined $_[1];
  $_[1] .= "\0" x ($offset - length $_[1]) if length $_[1] < $offset;
  substr($_[1], $offset) = $chunk;
  # Net::SMPP's read_hard retries while $! reads "Interrupted...", and a
  # stale EINTR (from select() and a signal) would make it spin for ever.
  $! = 0;
  return length $chunk;
}

sub syswrite {
  my ($me, $data) = @_;
  main::queue_output(${*$me}{gg_conn}, $data);
  return length $data;
}

package main;

my %conns;              # id -> record
my $next_conn_id = 1;
my $bind_counter = 0;   # orders binds, to find the newest receiver
my %partials;           # "src\0dst\0ref" -> held parts of a long message

sub session_error {
  my ($rec, $reason, @more) = @_;
  $stats{session_errors}++;
  $reason =~ s/\s+$//;
  emit('session_error', conn => ($rec ? $rec->{id} : undef), reason => $reason, @more);
}

sub pdu_summary {
  my ($octets) = @_;
  return 'short write' if length $octets < 16;
  my ($len, $cmd, $status, $seq) = unpack 'NNNN', $octets;
  my $name = Net::SMPP::pdu_tab()->{$cmd};
  return sprintf('%s (0x%08x) len=%d status=0x%08x seq=%d',
                 $name ? $name->{cmd} : 'unknown', $cmd, $len, $status, $seq);
}

sub queue_output {
  my ($rec, $data) = @_;
  return if !$rec || $rec->{closed};
  debug("conn $rec->{id} -> " . pdu_summary($data) . "\n" . Net::SMPP::hexdump($data, "\t"))
    if $args{debug};
  if (length($rec->{out}) + length($data) > MAX_OUT) {
    session_error($rec, 'output queue overflow: the ESME does not read');
    close_conn($rec);
    return;
  }
  $rec->{out} .= $data;
  flush_output($rec);
}

sub flush_output {
  my ($rec) = @_;
  while (!$rec->{closed} && length $rec->{out}) {
    my $n = CORE::syswrite($rec->{sock}, $rec->{out});
    if (!defined $n) {
      return if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
      session_error($rec, "write: $!");
      close_conn($rec);
      return;
    }
    return if $n == 0;
    substr($rec->{out}, 0, $n, '');
  }
  close_conn($rec) if $rec->{close_when_flushed} && !$rec->{closed} && !length $rec->{out};
}

sub close_conn {
  my ($rec) = @_;
  return if $rec->{closed};
  $rec->{closed} = 1;
  my $sock = $rec->{sock};
  delete ${*$sock}{gg_conn};    # break the cycle record <-> socket
  close($sock);
  delete $conns{$rec->{id}};
  $stats{sessions} = scalar keys %conns;
  emit('close', conn => $rec->{id});
}

sub accept_conn {
  my ($listen) = @_;
  my ($sock, $peer) = $listen->accept();
  return unless $sock;    # the client went away in between: nothing to do
  $sock->blocking(0);
  # Net::SMPP::new copied the listening socket's settings; the rest is ours.
  ${*$sock}{seq} = 0;
  ${*$sock}{gg_frame} = '';
  my $rec = {
    id => $next_conn_id++, sock => $sock, in => '', out => '', bound => '', system_id => '',
    bound_at => 0, pending => {}, closed => 0,
  };
  ${*$sock}{gg_conn} = $rec;
  $conns{$rec->{id}} = $rec;
  $stats{connects}++;
  $stats{sessions} = scalar keys %conns;
  my $remote = ($sock->peerhost // '?') . ':' . ($sock->peerport // '?');
  emit('connect', conn => $rec->{id}, remote => $remote, tls => 0);
}

sub read_conn {
  my ($rec) = @_;
  my $n = CORE::sysread($rec->{sock}, my $chunk, 65536);
  if (!defined $n) {
    return if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
    session_error($rec, "read: $!");
    close_conn($rec);
    return;
  }
  if ($n == 0) {
    close_conn($rec);
    return;
  }
  $rec->{in} .= $chunk;
  # Every turn takes at least one 16-octet header off the buffer.
  while (!$rec->{closed} && length($rec->{in}) >= 16) {
    my ($len, $cmd, $status, $seq) = unpack 'NNNN', $rec->{in};
    if ($len < 16 || $len > MAX_PDU) {
      session_error($rec, "bad command_length $len", seq => $seq,
                    command_id => sprintf('0x%08x', $cmd));
      close_conn($rec);    # no way to find the next PDU
      return;
    }
    last if length($rec->{in}) < $len;
    on_frame($rec, substr($rec->{in}, 0, $len, ''));
  }
}

# The commands whose body Net::SMPP decodes here. Anything else is only
# reported and, if a request, refused from its header alone: Net::SMPP would
# decode every command id in its table, SMPP v4 ones too, and some of its
# decoders trust counts in the body (decode_submit_v4 loops up to a 32-bit
# number_of_dests, so a 20-octet PDU with command_id 0x00010004 took the
# process to gigabytes of memory).
my %DECODED = map { $_ => 1 } (
  0x00000001, 0x00000002, 0x00000009,    # bind_receiver, _transmitter, _transceiver
  0x00000004,                            # submit_sm
  0x80000005, 0x80000103,                # deliver_sm_resp, data_sm_resp
  0x00000015, 0x00000006, 0x80000000,    # enquire_link, unbind, generic_nack
);

# One whole PDU: Net::SMPP decodes it, then the handler runs; neither may
# take the peer down.
sub on_frame {
  my ($rec, $frame) = @_;
  my $sock = $rec->{sock};
  my (undef, $cmd, $status, $seq) = unpack 'NNNN', $frame;
  if (!$DECODED{$cmd}) {
    debug("conn $rec->{id} <- " . pdu_summary($frame) . "\n" . Net::SMPP::hexdump($frame, "\t"))
      if $args{debug};
    eval { on_other_pdu($rec, $cmd, $status, $seq); 1 } or session_error($rec, "handler: $@");
    return;
  }
  ${*$sock}{gg_frame} = $frame;
  my @warnings;
  my $pdu = eval {
    local $SIG{__WARN__} = sub { push @warnings, $_[0] };
    $sock->read_pdu();
  };
  my $died = $@;
  ${*$sock}{gg_frame} = '';
  debug("conn $rec->{id} <- " . pdu_summary($frame) . "\n" . Net::SMPP::hexdump($frame, "\t"))
    if $args{debug};
  debug("conn $rec->{id}: Net::SMPP: $_") for @warnings;
  if (!$pdu) {
    my $why = $died || ${*$sock}{smpperror} || 'no PDU';
    session_error($rec, "Net::SMPP read_pdu: $why", seq => $seq,
                  command_id => sprintf('0x%08x', $cmd));
    smpp_call($rec, 'generic_nack', sub { $sock->generic_nack(seq => $seq, status => ST_INVCMDLEN) })
      unless $cmd & 0x80000000;
    return;
  }
  eval { on_pdu($rec, $pdu); 1 } or session_error($rec, "handler: $@");
}

# Runs one Net::SMPP call that builds and sends a PDU; reports a failure.
sub smpp_call {
  my ($rec, $what, $fn) = @_;
  my @warnings;
  my $result = eval {
    local $SIG{__WARN__} = sub { push @warnings, $_[0] };
    $fn->();
  };
  my $died = $@;
  debug("conn $rec->{id}: Net::SMPP ($what): $_") for @warnings;
  if ($died) {
    session_error($rec, "Net::SMPP $what: $died");
    return undef;
  }
  return $result;
}

my %BIND_KIND = (0x00000009 => 'transceiver', 0x00000002 => 'transmitter', 0x00000001 => 'receiver');

sub on_pdu {
  my ($rec, $pdu) = @_;
  my $cmd = $pdu->{cmd};
  my $seq = $pdu->{seq};
  my $sock = $rec->{sock};
  if (exists $BIND_KIND{$cmd}) {
    on_bind($rec, $pdu, $BIND_KIND{$cmd});
  } elsif ($cmd == 0x00000004) {
    on_submit($rec, $pdu);
  } elsif ($cmd == 0x80000005 || $cmd == 0x80000103) {
    my $deliver = $cmd == 0x80000005;
    $stats{$deliver ? 'deliver_resps' : 'data_sm_resps'}++;
    my $sent = delete $rec->{pending}{$seq};
    emit($deliver ? 'deliver_resp' : 'data_sm_resp', conn => $rec->{id}, seq => $seq,
         status => $pdu->{status}, kind => ($sent ? $sent->{kind} : 'unknown'),
         id => ($sent ? $sent->{id} : undef));
  } elsif ($cmd == 0x00000015) {
    $stats{enquire_links}++;
    emit('enquire_link', conn => $rec->{id}, seq => $seq, answered => 1);
    smpp_call($rec, 'enquire_link_resp', sub { $sock->enquire_link_resp(seq => $seq) });
  } elsif ($cmd == 0x00000006) {
    $stats{unbinds}++;
    emit('unbind', conn => $rec->{id}, seq => $seq, answered => 1);
    $rec->{bound} = '';
    smpp_call($rec, 'unbind_resp', sub { $sock->unbind_resp(seq => $seq) });
    $rec->{close_when_flushed} = 1;
    flush_output($rec);
  } elsif ($cmd == 0x80000000) {
    $stats{generic_nacks}++;
    delete $rec->{pending}{$seq};
    emit('generic_nack', conn => $rec->{id}, seq => $seq, status => $pdu->{status});
  } else {
    on_other_pdu($rec, $cmd, $pdu->{status}, $seq);
  }
}

# Any other PDU: reported; a request is refused with generic_nack 0x03.
sub on_other_pdu {
  my ($rec, $cmd, $status, $seq) = @_;
  my $sock = $rec->{sock};
  my $request = !($cmd & 0x80000000);
  my $known = Net::SMPP::pdu_tab()->{$cmd};
  emit('pdu', conn => $rec->{id}, command => ($known ? $known->{cmd} : 'unknown'),
       command_id => sprintf('0x%08x', $cmd), seq => $seq, status => $status,
       answered => ($request ? 1 : 0));
  smpp_call($rec, 'generic_nack', sub { $sock->generic_nack(seq => $seq, status => ST_INVCMDID) })
    if $request;
}

# Vendor TLVs through Net::SMPP's numeric tags: the value decides the width.
sub vendor_tlvs {
  my ($first_tag, $count, $octets) = @_;
  # 2 octets: 0x0100.. (127..32766); 4 octets: 0x01000000.. (above 32766).
  my $base = $octets == 4 ? 0x01000000 : 0x0100;
  return map { ($first_tag + $_) => ($base + $_) } 0 .. $count - 1;
}

sub on_bind {
  my ($rec, $pdu, $kind) = @_;
  my $sock = $rec->{sock};
  $rec->{bound} = $kind;
  $rec->{system_id} = $pdu->{system_id} // '';
  $rec->{bound_at} = ++$bind_counter;
  $stats{binds}++;
  my $n = $settings{bind_resp_tlvs};
  my @tlvs;
  push @tlvs, sc_interface_version => "\x34" if $n >= 1;
  push @tlvs, vendor_tlvs(0x1500, $n - 1, 2) if $n > 1;
  my $method = "bind_${kind}_resp";
  emit('bind', conn => $rec->{id}, kind => $kind, system_id => $rec->{system_id}, accepted => 1,
       status => 0, answered => 1);
  smpp_call($rec, $method, sub {
    $sock->$method(seq => $pdu->{seq}, status => 0, system_id => $args{system_id}, @tlvs);
  });
}

# ---------------------------------------------------------------------------
# submit_sm from the gateway

sub new_message_id {
  my $n = $next_id++;
  return { n => $n, str => ($settings{ids} eq 'hex' ? sprintf('%X', $n) : "$n") };
}

sub receipt_id_for {
  my ($id) = @_;
  return $id->{str} if $settings{receipt_ids} eq 'same';
  return $settings{receipt_ids} eq 'hex' ? sprintf('%X', $id->{n}) : "$id->{n}";
}

# The TLVs in the order they came, read strictly after the mandatory fields
# Net::SMPP decoded; dies with [status, reason] on a truncated body.
sub tlv_order {
  my ($pdu) = @_;
  my $data = $pdu->{data};
  my @warnings;
  my $mandatory = do {
    local $SIG{__WARN__} = sub { push @warnings, $_[0] };    # a short body: substr, undef
    Net::SMPP::decode_submit_v34({ data => $data });
  };
  debug("Net::SMPP (decode_submit_v34): $_") for @warnings;
  die [ST_INVCMDLEN, 'body ends inside the mandatory fields'] if $mandatory > length $data;
  my @tags;
  my $off = $mandatory;
  while ($off < length $data) {    # every turn moves on by 4 or more
    die [ST_INVTLVSTREAM, 'trailing octets after the last TLV'] if length($data) - $off < 4;
    my ($tag, $len) = unpack 'nn', substr($data, $off, 4);
    die [ST_INVTLVSTREAM, sprintf('TLV 0x%04x runs past the end of the PDU', $tag)]
      if $off + 4 + $len > length $data;
    push @tags, $tag;
    $off += 4 + $len;
  }
  return @tags;
}

sub tlv_int {
  my ($v) = @_;
  return undef unless defined $v && length $v;
  return length($v) >= 2 ? unpack('n', $v) : unpack('C', $v);
}

# Which part of which long message: UDH (8/16-bit reference) or SAR TLVs.
sub concat_info {
  my ($pdu) = @_;
  my $sm = $pdu->{short_message} // '';
  my %info = (kind => 'none', body => $sm);
  if (($pdu->{esm_class} & 0x40) && length $sm) {
    my $udhl = ord $sm;
    if ($udhl + 1 > length $sm) {
      $info{warning} = 'udh_longer_than_message';
    } else {
      $info{body} = substr($sm, $udhl + 1);
      my $i = 1;
      while ($i + 1 < $udhl + 1) {    # every turn moves on by 2 or more
        my ($iei, $len) = unpack 'CC', substr($sm, $i, 2);
        last if $i + 2 + $len > $udhl + 1;
        my $v = substr($sm, $i + 2, $len);
        if ($iei == 0x00 && $len == 3) {
          @info{qw(kind ref total part)} = ('udh8', unpack('CCC', $v));
        } elsif ($iei == 0x08 && $len == 4) {
          @info{qw(kind ref total part)} = ('udh16', unpack('nCC', $v));
        }
        $i += 2 + $len;
      }
    }
  }
  if ($info{kind} eq 'none'
      && (defined $pdu->{sar_segment_seqnum} || defined $pdu->{sar_msg_ref_num})) {
    %info = (%info, kind => 'sar', ref => tlv_int($pdu->{sar_msg_ref_num}),
             total => tlv_int($pdu->{sar_total_segments}),
             part => tlv_int($pdu->{sar_segment_seqnum}));
  }
  if (defined $pdu->{message_payload}) {
    if (length $sm) {
      $info{warning} = 'message_payload_and_short_message';
    } else {
      $info{body} = $pdu->{message_payload};
    }
    $info{kind} = 'payload' if $info{kind} eq 'none';
  }
  return \%info;
}

sub accept_part {
  my ($pdu, $info) = @_;
  my ($src, $dst, $coding) = ($pdu->{source_addr}, $pdu->{destination_addr}, $pdu->{data_coding});
  my $multi = $info->{kind} =~ /^(udh8|udh16|sar)$/ && ($info->{total} // 0) > 1;
  if (!$multi) {
    $stats{messages}++;
    emit('message', src => $src, dst => $dst, text => decode_text($coding, $info->{body}),
         parts => 1, coding => $coding, concat => $info->{kind});
    return;
  }
  my ($part, $total, $ref) = @{$info}{qw(part total ref)};
  if (!defined $part || $part < 1 || $part > $total) {
    session_error(undef, sprintf('part %s of %d out of range', $part // '?', $total), ref => $ref);
    return;
  }
  my $key = join "\0", $src, $dst, $ref // '';
  my $held = $partials{$key};
  $held = $partials{$key} = { total => $total, coding => $coding, parts => {} }
    if !$held || $held->{total} != $total;
  $held->{parts}{$part} = $info->{body};    # a part sent again replaces the one held
  $stats{partials} = scalar keys %partials;
  return if keys %{$held->{parts}} < $total;
  delete $partials{$key};
  $stats{partials} = scalar keys %partials;
  # Joined before decoding: a character split across parts comes out whole.
  my $body = join '', map { $held->{parts}{$_} } 1 .. $total;
  $stats{messages}++;
  emit('message', src => $src, dst => $dst, text => decode_text($held->{coding}, $body),
       parts => $total, coding => $held->{coding}, concat => $info->{kind}, ref => $ref);
}

# resp_tlvs: what every submit_sm_resp carries.
sub submit_resp_tlvs {
  my ($accepted) = @_;
  my $n = $settings{resp_tlvs};
  my @tlvs;
  push @tlvs, additional_status_info_text => "ok from perl\0" if $n >= 1;
  push @tlvs, delivery_failure_reason => chr($accepted ? 0 : 2) if $n >= 2;
  push @tlvs, network_error_code => "\x03\x00\x0B" if $n >= 3;
  push @tlvs, vendor_tlvs(0x1400, $n - 3, 4) if $n > 3;
  return @tlvs;
}

sub on_submit {
  my ($rec, $pdu) = @_;
  my $sock = $rec->{sock};
  my $seq = $pdu->{seq};
  $stats{submits}++;
  my @tags = eval { tlv_order($pdu) };
  if (my $e = $@) {
    my ($status, $reason) = ref $e eq 'ARRAY' ? @$e : (ST_INVCMDLEN, "$e");
    $stats{submit_failed}++;
    session_error($rec, "bad submit_sm: $reason", seq => $seq);
    # Header only, as for any refused submit without resp_tlvs.
    smpp_call($rec, 'submit_sm_resp', sub {
      $sock->resp_backend(Net::SMPP::CMD_submit_sm_resp(), '', $sock, seq => $seq,
                          status => $status);
    });
    return;
  }
  my $info = concat_info($pdu);

  my $status = 0;
  if ($rec->{bound} ne 'transmitter' && $rec->{bound} ne 'transceiver') {
    $status = ST_INVBNDSTS;
  } elsif ($settings{refuse_part} && $info->{kind} =~ /^(udh8|udh16|sar)$/
           && ($info->{part} // -1) == $settings{refuse_part}) {
    $status = $settings{refuse_status};
    $settings{refuse_part} = 0;    # once: a resend of the part goes through
  } else {
    $status = $settings{submit_status};
  }
  my $id = $status == 0 ? new_message_id() : undef;
  $stats{$status == 0 ? 'submit_ok' : 'submit_failed'}++;

  emit('submit', conn => $rec->{id}, seq => $seq, id => ($id ? $id->{str} : ''), status => $status,
       src => $pdu->{source_addr}, dst => $pdu->{destination_addr},
       src_ton => $pdu->{source_addr_ton}, src_npi => $pdu->{source_addr_npi},
       dst_ton => $pdu->{dest_addr_ton}, dst_npi => $pdu->{dest_addr_npi},
       service_type => $pdu->{service_type}, coding => $pdu->{data_coding},
       esm => $pdu->{esm_class}, registered => $pdu->{registered_delivery},
       pid => $pdu->{protocol_id}, sm_hex => unpack('H*', $pdu->{short_message} // ''),
       payload_hex => (defined $pdu->{message_payload} ? unpack('H*', $pdu->{message_payload}) : undef),
       tlvs => (@tags ? join(',', map { sprintf '0x%04x', $_ } @tags) : undef),    # as node: absent when none
       concat => $info->{kind},
       ref => $info->{ref}, part => $info->{part}, total => $info->{total},
       warning => $info->{warning});
  accept_part($pdu, $info) if $status == 0;

  my @tlvs = submit_resp_tlvs($status == 0);
  smpp_call($rec, 'submit_sm_resp', sub {
    if ($status == 0 || @tlvs) {
      # A refused one carries an empty message_id so that the TLVs can follow.
      $sock->submit_sm_resp(seq => $seq, status => $status,
                            message_id => ($id ? $id->{str} : ''), @tlvs);
    } else {
      # Net::SMPP's submit_sm_resp always writes a message_id; a refusal
      # without TLVs is the bare header, as SMPP 3.4 4.4.2 says.
      $sock->resp_backend(Net::SMPP::CMD_submit_sm_resp(), '', $sock, seq => $seq,
                          status => $status);
    }
  });

  if ($status == 0 && $settings{receipts} eq 'on' && ($pdu->{registered_delivery} & 0x01)) {
    my $r = send_receipt({
      id => receipt_id_for($id), stat => $settings{receipt_stat}, err => 0,
      src => $pdu->{destination_addr}, dst => $pdu->{source_addr}, via => $settings{receipt_via},
      prefer => $rec, submitted => time,
    });
    emit('receipt_failed', id => receipt_id_for($id), stat => $settings{receipt_stat},
         reason => $r->{error}) if $r->{error};
  }
}

# ---------------------------------------------------------------------------
# deliver_sm / data_sm to the gateway

# The session that receives: conn=N (it must be a receiver or transceiver),
# else `prefer` if it is one, else the most recently bound one.
sub pick_receiver {
  my ($conn_id, $prefer) = @_;
  my $can = sub { my $c = shift; $c && !$c->{closed} && $c->{bound} =~ /^(receiver|transceiver)$/ };
  return $can->($conns{$conn_id}) ? $conns{$conn_id} : undef if defined $conn_id;
  return $prefer if $can->($prefer);
  my ($newest) = sort { $b->{bound_at} <=> $a->{bound_at} } grep { $can->($_) } values %conns;
  return $newest;
}

sub smpp_date {
  return POSIX::strftime('%y%m%d%H%M', localtime($_[0]));
}

# Sends one deliver_sm or data_sm with Net::SMPP (async: the response comes
# through the select loop); returns its sequence number or undef.
sub send_request {
  my ($rec, $via, $record, @fields) = @_;
  my $sock = $rec->{sock};
  my $seq = smpp_call($rec, $via, sub {
    $via eq 'data_sm' ? $sock->data_sm(async => 1, @fields) : $sock->deliver_sm(async => 1, @fields);
  });
  return undef if !defined $seq || $rec->{closed};
  $rec->{pending}{$seq} = $record;
  $stats{$via eq 'data_sm' ? 'data_sms' : 'delivers'}++;
  return $seq;
}

# r: { id stat err src dst via [conn] [prefer] [submitted] }
sub send_receipt {
  my ($r) = @_;
  my $rec = pick_receiver($r->{conn}, $r->{prefer});
  return { error => 'no_receiver' } unless $rec;
  my $err = sprintf('%03d', $r->{err});
  my $state = $MESSAGE_STATE{$r->{stat}} // $MESSAGE_STATE{UNKNOWN};
  my @tlvs = (receipted_message_id => to_octets($r->{id}) . "\0", message_state => chr($state));
  push @tlvs, network_error_code => pack('Cn', 3, $r->{err}) if $r->{err};
  my @addr = (source_addr_ton => 1, source_addr_npi => 1, source_addr => to_octets($r->{src}),
              dest_addr_ton => 0, dest_addr_npi => 0, destination_addr => to_octets($r->{dst}));
  my $seq;
  if ($r->{via} eq 'data_sm') {
    $seq = send_request($rec, 'data_sm', { kind => 'receipt', id => $r->{id} }, @addr,
                        esm_class => 0x04, registered_delivery => 0, data_coding => 0, @tlvs);
  } else {
    my $text = sprintf('id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:',
                       to_octets($r->{id}), ($r->{stat} eq 'DELIVRD' ? '001' : '000'),
                       smpp_date($r->{submitted} // time), smpp_date(time), $r->{stat}, $err);
    $seq = send_request($rec, 'deliver_sm', { kind => 'receipt', id => $r->{id} }, @addr,
                        esm_class => 0x04, data_coding => 0, short_message => $text, @tlvs);
  }
  return { error => 'not_writable' } unless defined $seq;
  $stats{receipts}++;
  emit('receipt_sent', conn => $rec->{id}, seq => $seq, id => $r->{id}, stat => $r->{stat},
       err => $err, coding => 0, via => $r->{via});
  return { conn => $rec->{id}, seq => $seq };
}

# ---------------------------------------------------------------------------
# Commands from stdin

my $quit = 0;

sub kv_int {
  my ($kv, $key, $min, $max, $default) = @_;
  return $default unless defined $kv->{$key};
  my $n = eval { int_in($min, $max)->($kv->{$key}) };
  die "bad_value:$key\n" unless defined $n;
  return $n;
}

sub kv_enum {
  my ($kv, $key, $default, @values) = @_;
  return $default unless defined $kv->{$key};
  die "bad_value:$key\n" unless grep { $_ eq $kv->{$key} } @values;
  return $kv->{$key};
}

my %COMMANDS;
%COMMANDS = (
  set => sub {
    my ($kv, $order) = @_;
    my %next = %settings;
    for my $k (@$order) {
      die "unknown_key:$k\n" unless $SETTINGS{$k};
      my $v = eval { $SETTINGS{$k}[0]->($kv->{$k}) };
      if (!defined $v) {
        (my $why = $@) =~ s/\s+$//;
        die "bad_value:$k:$why\n";
      }
      $next{$k} = $v;
    }
    %settings = %next;
    $next_id = $settings{id_start} if exists $kv->{id_start};
    return ();
  },
  get => sub {
    write_line(format_line('settings', map { $_ => $settings{$_} } @SETTING_KEYS));
    return ();
  },
  reset => sub {
    reset_settings();
    return ();
  },
  mo => sub {
    my ($kv) = @_;
    my $text = $kv->{text} // '';
    my $via = kv_enum($kv, 'via', 'deliver_sm', qw(deliver_sm data_sm));
    my $count = kv_int($kv, 'tlvs', 0, MAX_VENDOR_TLVS, 0);
    my $coding = kv_int($kv, 'coding', 0, 255, ($text =~ /[^\x00-\xFF]/ ? 8 : 0));
    my $conn_id = kv_int($kv, 'conn', 1, 1e9, undef);
    my $octets = $coding == 8 ? Encode::encode('UTF-16BE', $text)
                              : Encode::encode('iso-8859-1', $text);    # '?' beyond latin1
    die "text_too_long\n" if $via eq 'deliver_sm' && length $octets > 254;
    die "text_too_long\n" if length $octets > 65535;
    my $rec = pick_receiver($conn_id);
    die "no_receiver\n" unless $rec;
    my @fields = (source_addr_ton => 1, source_addr_npi => 1,
                  source_addr => to_octets($kv->{src} // ''), dest_addr_ton => 0,
                  dest_addr_npi => 0, destination_addr => to_octets($kv->{dst} // ''),
                  esm_class => 0, data_coding => $coding);
    my @vendor = vendor_tlvs(0x1400, $count, 2);
    my $seq = $via eq 'data_sm'
      ? send_request($rec, 'data_sm', { kind => 'mo' }, @fields, registered_delivery => 0,
                     message_payload => $octets, @vendor)
      : send_request($rec, 'deliver_sm', { kind => 'mo' }, @fields, short_message => $octets,
                     @vendor);
    die "not_writable\n" unless defined $seq;
    emit('deliver_sent', conn => $rec->{id}, seq => $seq, kind => 'mo', part => 1, total => 1,
         via => $via);
    return (conn => $rec->{id}, seq => $seq, seqs => $seq, parts => 1);
  },
  receipt => sub {
    my ($kv) = @_;
    die "missing_key:id\n" unless defined $kv->{id};
    my $stat = $kv->{stat} // 'DELIVRD';
    die "bad_value:stat\n" unless $stat =~ /^[A-Z]{1,10}$/;
    my $r = send_receipt({
      id => $kv->{id}, stat => $stat, err => kv_int($kv, 'err', 0, 0xFFFF, 0),
      src => $kv->{src} // '', dst => $kv->{dst} // '',
      via => kv_enum($kv, 'via', $settings{receipt_via}, qw(deliver_sm data_sm)),
      conn => kv_int($kv, 'conn', 1, 1e9, undef),
    });
    if ($r->{error}) {
      emit('receipt_failed', id => $kv->{id}, stat => $stat, reason => $r->{error});
      die "$r->{error}\n";
    }
    return (conn => $r->{conn}, seq => $r->{seq});
  },
  stats => sub {
    write_line(format_line('stats', map { $_ => $stats{$_} } @STAT_KEYS));
    return ();
  },
  quit => sub {
    $quit = 1;
    return ();
  },
);

# decodeURIComponent: UTF-8 after the %XX escapes; dies on a bad escape.
sub decode_value {
  my ($key, $v) = @_;
  die "bad_encoding:$key\n" if $v =~ /%(?![0-9A-Fa-f]{2})/;
  $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
  die "bad_encoding:$key\n" unless utf8::decode($v);
  return $v;
}

sub on_command_line {
  my ($line) = @_;
  $line =~ s/\r$//;
  my @tokens = grep { length } split / +/, $line;
  return unless @tokens;
  my $name = shift @tokens;
  my @answer = eval {
    my (%kv, @order);
    for my $t (@tokens) {
      my ($k, $v) = $t =~ /^([^=]*)(?:=(.*))?$/s;
      $v = decode_value($k, $v // '');
      push @order, $k unless exists $kv{$k};
      $kv{$k} = $v;
    }
    my $fn = $COMMANDS{$name} or die "unknown_command\n";
    $fn->(\%kv, \@order);
  };
  if (my $e = $@) {
    $e =~ s/\s+$//;
    $e =~ s/ at \S+ line \d+\.?$//;
    write_line(format_line('error', cmd => $name, reason => $e));
  } else {
    write_line(format_line('ok', cmd => $name, @answer));
  }
}

# ---------------------------------------------------------------------------
# Main loop

$SIG{PIPE} = 'IGNORE';
# Exit at once, even from inside a handler.
$SIG{TERM} = sub { exit 0 };
$SIG{INT} = sub { exit 0 };

# new_listen passes `SO_REUSEADDR => 1` to sockopt, and the fat comma makes
# that the string "SO_REUSEADDR" (a warning under -w; ReuseAddr already set
# the option): its warnings only go to --debug.
my @listen_warnings;
my $listen = do {
  local $SIG{__WARN__} = sub { push @listen_warnings, $_[0] };
  GiftGate::NetSmppConn->new_listen(
    '127.0.0.1', port => $args{port}, listen => 16, timeout => 0, async => 1,
    enquire_interval => 0, system_id => $args{system_id}, smpp_version => 0x34,
  );
};
debug("Net::SMPP (new_listen): $_") for @listen_warnings;
if (!$listen) {
  print STDERR "net-smpp-smsc: cannot listen on 127.0.0.1:$args{port}: $!\n";
  exit 1;
}
$listen->blocking(0);
write_line(format_line('ready', port => $listen->sockport, tls => 0));

my $parent = getppid();
my $stdin = \*STDIN;
my $stdin_buffer = '';
my $stdin_open = 1;

while (!$quit) {
  my $readers = IO::Select->new($listen);
  $readers->add($stdin) if $stdin_open;
  my $writers = IO::Select->new();
  for my $rec (values %conns) {
    $readers->add($rec->{sock});
    $writers->add($rec->{sock}) if length $rec->{out};
  }
  # Bounded wait, so that signals and a vanished parent are noticed.
  my ($r, $w) = IO::Select->select($readers, $writers, undef, 0.25);
  last if $quit;
  last if getppid() != $parent;    # the driver died without closing our stdin
  for my $fh (@{$w || []}) {
    my $rec = ${*$fh}{gg_conn};
    flush_output($rec) if $rec;
  }
  for my $fh (@{$r || []}) {
    if ($fh == $listen) {
      accept_conn($listen);
    } elsif ($fh == $stdin) {    # (not by fileno: a socket closed meanwhile has none)
      my $n = CORE::sysread(STDIN, my $chunk, 65536);
      next if !defined $n && ($!{EAGAIN} || $!{EINTR});
      if (!$n) {
        $stdin_open = 0;
        $quit = 1;    # the driver went away (or closed stdin): finish the lines read
        $stdin_buffer .= "\n" if length $stdin_buffer;
      } else {
        $stdin_buffer .= $chunk;
      }
      while (!$quit || length $stdin_buffer) {    # every turn takes a line off
        my $nl = index $stdin_buffer, "\n";
        last if $nl < 0;
        my $line = substr($stdin_buffer, 0, $nl + 1, '');
        chomp $line;
        on_command_line($line);
        last if $quit && $line =~ /^\s*quit\b/;
      }
    } else {
      my $rec = ${*$fh}{gg_conn};
      read_conn($rec) if $rec && !$rec->{closed};
    }
  }
}

# Leave: the answers are out; connections are closed without ceremony, as
# the node peer does.
for my $rec (values %conns) {
  flush_output($rec);
  $rec->{closed} = 1;
  close($rec->{sock});
}
exit 0;
