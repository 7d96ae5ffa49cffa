// Every word the clerk reads, in plain Bahasa Indonesia: labels for the
// codes the API uses (statuses, categories, authors) and the errors of
// the API and of the network, which are written for programmers.

export const STATUS = {
  baru: 'Baru', diproses: 'Diproses', menunggu_rt: 'Menunggu RT',
  selesai: 'Selesai', otomatis: 'Dijawab otomatis',
};

export const MSG_STATUS = {
  received: 'diterima', partial: 'sebagian', queued: 'antre', sending: 'mengirim',
  sent: 'terkirim', delivered: 'sampai', read: 'dibaca', failed: 'gagal', error: 'rusak',
};

export const CHANNEL = { sms: 'SMS', whatsapp: 'WA' };

// The categories of the shipped rules (etc/rules.d), by their titles.
const CATEGORY = {
  'info/jam': 'Jam buka', 'info/cek': 'Cek tiket', 'info/pbb': 'PBB',
  'info/posyandu': 'Posyandu', 'info/sampah': 'Jadwal sampah',
  'info/bansos': 'Bansos', 'info/bpjs': 'BPJS/KIS',
  'layanan/ktp': 'KTP', 'layanan/kk': 'Kartu keluarga',
  'layanan/nikah': 'Pengantar nikah', 'layanan/belumnikah': 'Ket. belum menikah',
  'layanan/sku': 'Surat ket. usaha', 'layanan/sktm': 'SKTM',
  'layanan/domisili': 'Surat domisili', 'layanan/pindah': 'Surat pindah',
  'layanan/kematian': 'Surat kematian', 'layanan/kelahiran': 'Akta lahir',
  'layanan/skck': 'Pengantar SKCK', 'layanan/ahliwaris': 'Surat ahli waris',
  'layanan/keramaian': 'Izin keramaian', 'layanan/lain': 'Surat lain',
  'pengaduan/umum': 'Pengaduan lain', 'pengaduan/sampah': 'Pengaduan sampah',
  'pengaduan/lampu': 'Lampu jalan', 'pengaduan/drainase': 'Got/banjir',
  'pengaduan/jalan': 'Jalan rusak', 'pengaduan/kamtibmas': 'Keamanan/ketertiban',
  'pengaduan/pohon': 'Pohon tumbang', 'pengaduan/air': 'Air bersih',
  saran: 'Saran/kritik', spam: 'Promosi', lainnya: 'Lainnya',
  'rt/konfirmasi': 'Konfirmasi RT',
};

// A category of a local rule has no title here: its last part, readable.
export function categoryLabel(slug) {
  if (!slug) return '';
  if (CATEGORY[slug]) return CATEGORY[slug];
  const last = slug.split('/').pop().replace(/[-_]/g, ' ');
  return last.charAt(0).toUpperCase() + last.slice(1);
}

export function authorLabel(a) {
  if (!a || a === 'auto' || a.startsWith('rule:')) return 'Balasan otomatis';
  if (a === 'system' || a === 'sistem') return 'Simpul (otomatis)';
  if (a === 'simpulctl') return 'Admin (server)';
  if (a === 'survey') return 'Survei kepuasan';
  return a;
}

// The service names of RT confirmations are rule names ("ktp").
export function serviceLabel(s) {
  return CATEGORY[`layanan/${s}`] || categoryLabel(s);
}

// API errors -> what the clerk can do about them. Known texts first,
// then by HTTP status; nothing in English reaches the page.
const KNOWN = [
  [/no such conversation/i, 'Percakapan ini tidak ditemukan (mungkin sudah dihapus). Muat ulang halaman.'],
  [/no such contact/i, 'Data warga ini tidak ditemukan.'],
  [/no such user/i, 'Pengguna itu tidak ada.'],
  [/user exists/i, 'Nama pengguna itu sudah dipakai.'],
  [/password.*8/i, 'Kata sandi minimal 8 huruf.'],
  [/'name': 1 to 60/i, 'Nama pengguna: huruf, angka, titik, garis bawah atau tanda hubung (maks. 60).'],
  [/only an admin/i, 'Hanya admin yang boleh melakukan ini.'],
  [/tidak terdaftar di rt\.ini/i, (m) => `${m.match(/RT \d+/)?.[0] || 'RT ini'} belum ada di daftar Ketua RT. Minta admin menambahkannya.`],
  [/rt\.ini/i, 'Daftar Ketua RT belum lengkap. Minta admin memeriksanya.'],
  [/CSRF/i, 'Sesi Anda kedaluwarsa. Muat ulang halaman.'],
  [/login required/i, 'Silakan masuk lagi.'],
  [/too large/i, 'Teks terlalu panjang.'],
  [/'text' is required/i, 'Tulis dulu teksnya.'],
];

export function friendlyError(status, msg) {
  const m = String(msg || '');
  for (const [re, text] of KNOWN) {
    if (re.test(m)) return typeof text === 'function' ? text(m) : text;
  }
  // Texts the daemon already writes in Bahasa Indonesia are kept.
  if (/\b(warga|tidak|belum|sudah|jendela|masih|kode|isi)\b/i.test(m)) {
    return m.charAt(0).toUpperCase() + m.slice(1);
  }
  if (status === 0) return 'Tidak tersambung ke server Simpul. Coba lagi sebentar lagi.';
  if (status === 400) return 'Isian belum benar. Periksa lagi.';
  if (status === 403) return 'Anda tidak punya izin untuk ini.';
  if (status === 404) return 'Data yang dicari tidak ditemukan.';
  if (status === 409) return 'Tidak bisa: ada yang masih menunggu.';
  if (status === 429) return 'Terlalu sering. Tunggu sebentar.';
  return 'Terjadi gangguan di server. Coba lagi; bila berulang, hubungi admin.';
}

// Why a reply is stuck or failed, from the technical error of the
// channel (outbox, modem, Graph API).
export function sendProblem(m) {
  const e = String(m.error || '');
  let why = '';
  if (/token|OAuth|190|401|permission/i.test(e)) why = 'izin WhatsApp (token) bermasalah; hubungi admin';
  else if (/24.?h|window|131047|re-engage/i.test(e)) why = 'jendela 24 jam WhatsApp sudah tertutup';
  else if (/not a WhatsApp|131026|invalid.*recipient|recipient/i.test(e)) why = 'nomor ini tidak memakai WhatsApp';
  else if (/rate|131056|throttl|too many/i.test(e)) why = 'WhatsApp membatasi pengiriman; dicoba lagi nanti';
  else if (/modem|CMS ERROR|CME|AT\+|serial|SIM/i.test(e)) why = 'modem SMS tidak menjawab atau pulsa habis';
  else if (/curl|connect|resolve|timed? ?out|timeout|network|HTTP 5/i.test(e)) why = 'server WhatsApp tidak dapat dihubungi';
  else if (/gave up/i.test(e)) why = 'sudah dicoba berkali-kali';
  else if (e) why = 'ditolak oleh saluran pengirim';
  if (m.status === 'failed') return `Gagal terkirim${why ? `: ${why}` : ''}.`;
  if ((m.status === 'queued' || m.status === 'sending') && (e || m.attempts > 0)) {
    return `Belum terkirim${why ? `: ${why}` : ''}. Dicoba lagi otomatis.`;
  }
  return '';
}
