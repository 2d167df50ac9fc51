import { describe, expect, test } from 'bun:test'
import { HOST_CACHE_SIZE, referrerSource, SOURCES } from '../src/events/source.ts'

/** [referrer, host, source] */
type Case = [string, string, string]

function check(cases: Case[]) {
  for (const [referrer, host, source] of cases) {
    expect({ referrer, ...referrerSource(referrer) }).toEqual({ referrer, host, source })
  }
}

describe('referrerSource', () => {
  test('no referrer, or none that names a host, is direct', () => {
    check([
      ['', '', '(direct)'],
      [' ', '', '(direct)'],
      ['not a url', '', '(direct)'],
      ['/relative/path', '', '(direct)'],
      ['google.com', '', '(direct)'],
      ['about:blank', '', '(direct)'],
      ['file:///home/me/page.html', '', '(direct)'],
      ['data:text/html,hi', '', '(direct)'],
      ['javascript:alert(1)', '', '(direct)'],
      ['chrome-extension://abcdefghijklmnop/popup.html', '', '(direct)'],
      ['ftp://files.example.com/', '', '(direct)'],
      ['https://', '', '(direct)'],
      ['https://exa mple.com/', '', '(direct)'],
      ['https://xn--/', '', '(direct)'],
    ])
  })

  test('any other host is its own source: lower-case, without www. or a trailing dot', () => {
    check([
      ['https://example.com/', 'example.com', 'example.com'],
      ['https://www.example.com/blog/post?utm_source=x#top', 'example.com', 'example.com'],
      ['HTTPS://WWW.Example.COM/', 'example.com', 'example.com'],
      ['https://example.com./', 'example.com', 'example.com'],
      ['https://www.example.com.:8443/', 'example.com', 'example.com'],
      ['http://blog.example.co.uk/a', 'blog.example.co.uk', 'blog.example.co.uk'],
      ['https://www2.example.com/', 'www2.example.com', 'www2.example.com'],
      ['https://www.www.example.com/', 'www.example.com', 'www.example.com'],
      ['https://www./', 'www', 'www'],
      ['http://localhost:3000/', 'localhost', 'localhost'],
      ['https:example.com', 'example.com', 'example.com'],
    ])
  })

  test('user info and ports are dropped; IP addresses stay as they are', () => {
    check([
      ['https://user:secret@example.com/', 'example.com', 'example.com'],
      ['https://user:pw@www.google.com/', 'google.com', 'Google'],
      ['https://google.com@evil.example/', 'evil.example', 'evil.example'],
      ['http://example.com:8080/x', 'example.com', 'example.com'],
      ['http://192.168.1.20:3000/', '192.168.1.20', '192.168.1.20'],
      ['http://8.8.8.8/', '8.8.8.8', '8.8.8.8'],
      ['http://0x7f.1/', '127.0.0.1', '127.0.0.1'],
      ['http://[2001:DB8::1]:8080/', '[2001:db8::1]', '[2001:db8::1]'],
      ['http://[::1]/', '[::1]', '[::1]'],
    ])
  })

  test('internationalized names in their ASCII form', () => {
    check([
      ['https://bücher.de/', 'xn--bcher-kva.de', 'xn--bcher-kva.de'],
      ['https://www.BÜCHER.de/', 'xn--bcher-kva.de', 'xn--bcher-kva.de'],
      ['https://xn--bcher-kva.de/', 'xn--bcher-kva.de', 'xn--bcher-kva.de'],
      ['https://例え.jp/', 'xn--r8jz45g.jp', 'xn--r8jz45g.jp'],
    ])
  })

  test('Google: search and news under any country suffix; not its other services; not look-alikes', () => {
    check([
      ['https://www.google.com/', 'google.com', 'Google'],
      ['https://google.de/', 'google.de', 'Google'],
      ['https://www.google.co.uk/', 'google.co.uk', 'Google'],
      ['https://www.google.com.br/', 'google.com.br', 'Google'],
      ['https://www.google.co.jp/search?q=x', 'google.co.jp', 'Google'],
      ['https://www.google.com.au./', 'google.com.au', 'Google'],
      ['https://google.cat/', 'google.cat', 'Google'],
      ['https://news.google.com/', 'news.google.com', 'Google'],
      ['https://news.google.fr/', 'news.google.fr', 'Google'],
      ['https://m.google.com/', 'm.google.com', 'Google'],
      ['https://images.google.de/', 'images.google.de', 'Google'],
      ['https://scholar.google.com/', 'scholar.google.com', 'Google'],
      ['https://mail.google.com/mail/u/0/', 'mail.google.com', 'Gmail'],
      ['https://gemini.google.com/app', 'gemini.google.com', 'Gemini'],
      ['https://docs.google.com/document/d/1/edit', 'docs.google.com', 'docs.google.com'],
      ['https://sites.google.com/view/x', 'sites.google.com', 'sites.google.com'],
      ['https://google.evil.example/', 'google.evil.example', 'google.evil.example'],
      ['https://www.google.com.evil.example/', 'google.com.evil.example', 'google.com.evil.example'],
      ['https://notgoogle.com/', 'notgoogle.com', 'notgoogle.com'],
      ['https://google.blogspot.com/', 'google.blogspot.com', 'google.blogspot.com'],
      ['https://google.github.io/', 'google.github.io', 'google.github.io'],
      ['https://googleusercontent.com/', 'googleusercontent.com', 'googleusercontent.com'],
      ['https://blog.google/', 'blog.google', 'blog.google'],
    ])
  })

  test('other search engines, country suffixes by the same rule', () => {
    check([
      ['https://www.bing.com/search?q=x', 'bing.com', 'Bing'],
      ['https://cn.bing.com/', 'cn.bing.com', 'Bing'],
      ['https://duckduckgo.com/', 'duckduckgo.com', 'DuckDuckGo'],
      ['https://html.duckduckgo.com/html', 'html.duckduckgo.com', 'DuckDuckGo'],
      ['https://search.yahoo.com/', 'search.yahoo.com', 'Yahoo'],
      ['https://search.yahoo.co.jp/', 'search.yahoo.co.jp', 'Yahoo'],
      ['https://uk.search.yahoo.com/', 'uk.search.yahoo.com', 'Yahoo'],
      ['https://r.search.yahoo.com/_ylt=x', 'r.search.yahoo.com', 'Yahoo'],
      ['https://yandex.ru/', 'yandex.ru', 'Yandex'],
      ['https://yandex.com.tr/', 'yandex.com.tr', 'Yandex'],
      ['https://ya.ru/', 'ya.ru', 'Yandex'],
      ['https://www.baidu.com/link?url=x', 'baidu.com', 'Baidu'],
      ['https://m.baidu.com/', 'm.baidu.com', 'Baidu'],
      ['https://www.ecosia.org/search?q=x', 'ecosia.org', 'Ecosia'],
      ['https://bing.evil.example/', 'bing.evil.example', 'bing.evil.example'],
      ['https://notyahoo.com/', 'notyahoo.com', 'notyahoo.com'],
      ['https://duckduckgo.com.evil.example/', 'duckduckgo.com.evil.example', 'duckduckgo.com.evil.example'],
    ])
  })

  test('networks and link shorteners', () => {
    check([
      ['https://www.facebook.com/', 'facebook.com', 'Facebook'],
      ['https://m.facebook.com/', 'm.facebook.com', 'Facebook'],
      ['https://l.facebook.com/l.php?u=x', 'l.facebook.com', 'Facebook'],
      ['https://lm.facebook.com/', 'lm.facebook.com', 'Facebook'],
      ['https://l.instagram.com/?u=x', 'l.instagram.com', 'Instagram'],
      ['https://t.co/abc', 't.co', 'X'],
      ['https://x.com/someone/status/1', 'x.com', 'X'],
      ['https://twitter.com/', 'twitter.com', 'X'],
      ['https://mobile.twitter.com/', 'mobile.twitter.com', 'X'],
      ['https://lnkd.in/abc', 'lnkd.in', 'LinkedIn'],
      ['https://www.linkedin.com/feed/', 'linkedin.com', 'LinkedIn'],
      ['https://old.reddit.com/r/x', 'old.reddit.com', 'Reddit'],
      ['https://out.reddit.com/t3_x', 'out.reddit.com', 'Reddit'],
      ['https://www.reddit.com/', 'reddit.com', 'Reddit'],
      ['https://news.ycombinator.com/item?id=1', 'news.ycombinator.com', 'Hacker News'],
      ['https://ycombinator.com/', 'ycombinator.com', 'ycombinator.com'],
      ['https://github.com/owner/repo', 'github.com', 'GitHub'],
      ['https://gist.github.com/x', 'gist.github.com', 'GitHub'],
      ['https://owner.github.io/', 'owner.github.io', 'owner.github.io'],
      ['https://www.youtube.com/watch?v=x', 'youtube.com', 'YouTube'],
      ['https://m.youtube.com/', 'm.youtube.com', 'YouTube'],
      ['https://youtu.be/x', 'youtu.be', 'YouTube'],
      ['https://chatgpt.com/', 'chatgpt.com', 'ChatGPT'],
      ['https://chat.openai.com/', 'chat.openai.com', 'ChatGPT'],
      ['https://openai.com/', 'openai.com', 'openai.com'],
      ['https://en.wikipedia.org/wiki/X', 'en.wikipedia.org', 'Wikipedia'],
      ['https://en.m.wikipedia.org/wiki/X', 'en.m.wikipedia.org', 'Wikipedia'],
      ['https://www.perplexity.ai/', 'perplexity.ai', 'Perplexity'],
      ['https://notfacebook.com/', 'notfacebook.com', 'notfacebook.com'],
      ['https://facebook.com.evil.example/', 'facebook.com.evil.example', 'facebook.com.evil.example'],
      ['https://evilt.co/', 'evilt.co', 'evilt.co'],
    ])
  })

  test('Android apps: known ones by name, others as android-app:<package>', () => {
    check([
      ['android-app://com.google.android.googlequicksearchbox', 'com.google.android.googlequicksearchbox', 'Google'],
      [
        'android-app://com.google.android.googlequicksearchbox/https/www.google.com',
        'com.google.android.googlequicksearchbox',
        'Google',
      ],
      ['android-app://com.google.android.gm', 'com.google.android.gm', 'Gmail'],
      ['android-app://com.google.android.gm/', 'com.google.android.gm', 'Gmail'],
      ['ANDROID-APP://Com.Facebook.Katana', 'com.facebook.katana', 'Facebook'],
      ['android-app://com.slack', 'com.slack', 'android-app:com.slack'],
      ['android-app://org.telegram.messenger', 'org.telegram.messenger', 'android-app:org.telegram.messenger'],
      ['android-app://', '', '(direct)'],
      ['android-app://notapackage', '', '(direct)'],
      ['android-app://com..x', '', '(direct)'],
      ['android-app://com.x%2Fy', '', '(direct)'],
      [`android-app://com.${'a'.repeat(300)}`, '', '(direct)'],
    ])
  })

  test('hostile inputs: very long strings and hosts, control characters, odd schemes', () => {
    const longHost = `${'a'.repeat(63)}.`.repeat(5).slice(0, -1)
    check([
      [`https://example.com/${'x'.repeat(100_000)}`, 'example.com', 'example.com'],
      [`https://www.google.com/?q=${'%00'.repeat(10_000)}`, 'google.com', 'Google'],
      // no host name is that long: no browser sent it
      [`https://${longHost}.com/`, '', '(invalid)'],
      // 250 characters: still a host, and not Google's
      [`https://${'a.'.repeat(120)}google.com/`, `${'a.'.repeat(120)}google.com`, `${'a.'.repeat(120)}google.com`],
      [`https://${'a.'.repeat(200)}com/`, '', '(invalid)'],
      ['x'.repeat(100_000), '', '(direct)'],
      ['https://exam\tple.com/', 'example.com', 'example.com'],
      ['\u0000https://example.com/', 'example.com', 'example.com'],
      ['https://example.com\u0000/', '', '(direct)'],
      // empty labels, and what the URL parser lets into a host that no DNS name has
      ['https://a..b/', '', '(invalid)'],
      ['https://.google.com/', '', '(invalid)'],
      ["https://a'b*c{d}.example/", '', '(invalid)'],
      ['https://<b>x</b>.example/', '', '(direct)'],
      ['https://co.uk/', 'co.uk', 'co.uk'],
      ['https://com/', 'com', 'com'],
    ])
  })

  test('every name in the table is what its own patterns fold to', () => {
    for (const [source, patterns] of Object.entries(SOURCES)) {
      for (const pattern of patterns) {
        const referrer = pattern.startsWith('android-app:')
          ? `android-app://${pattern.slice('android-app:'.length)}`
          : `https://${pattern.replace(/^\*\./, 'sub.').replace(/\.\*$/, '.co.uk')}/`
        expect({ pattern, source: referrerSource(referrer).source }).toEqual({ pattern, source })
      }
    }
  })

  test('many distinct hosts: answers stay right as hosts are forgotten and folded again', () => {
    for (let i = 0; i < HOST_CACHE_SIZE * 3; i++) referrerSource(`https://site-${i}.example/`)
    check([
      ['https://site-0.example/', 'site-0.example', 'site-0.example'],
      ['https://www.google.de/', 'google.de', 'Google'],
      ['https://www.google.de/', 'google.de', 'Google'],
    ])
  })

  test('the answer is a fresh object: changing it changes nothing for the next caller', () => {
    const first = referrerSource('https://www.google.com/')
    first.source = 'changed'
    expect(referrerSource('https://www.google.com/').source).toBe('Google')
  })
})
