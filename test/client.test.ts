import { describe, expect, test } from 'bun:test'
import { CLIENT_CACHE_SIZE, type ClientInfo, clientInfo, MAX_USER_AGENT_LENGTH } from '../src/events/client.ts'

/** [what, User-Agent, bot, browser, os, device] */
type Case = [string, string, boolean, string, string, string]

function check(cases: Case[]) {
  for (const [what, ua, bot, browser, os, device] of cases) {
    expect({ what, ...clientInfo(ua) }).toEqual({ what, bot, browser, os, device })
  }
}

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

describe('clientInfo', () => {
  test('current browsers on desktops', () => {
    check([
      ['Chrome, Windows', CHROME_WINDOWS, false, 'Chrome', 'Windows', 'desktop'],
      [
        'Chrome, macOS',
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        false,
        'Chrome',
        'macOS',
        'desktop',
      ],
      [
        'Chrome, ChromeOS',
        'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        false,
        'Chrome',
        'ChromeOS',
        'desktop',
      ],
      [
        'Safari, macOS',
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
        false,
        'Safari',
        'macOS',
        'desktop',
      ],
      [
        'Firefox, Linux',
        'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        false,
        'Firefox',
        'Linux',
        'desktop',
      ],
      [
        'Firefox, Ubuntu',
        'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        false,
        'Firefox',
        'Linux',
        'desktop',
      ],
      [
        'Firefox, Windows',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
        false,
        'Firefox',
        'Windows',
        'desktop',
      ],
      ['Edge, Windows', `${CHROME_WINDOWS} Edg/131.0.0.0`, false, 'Edge', 'Windows', 'desktop'],
      [
        'Edge, macOS',
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
        false,
        'Edge',
        'macOS',
        'desktop',
      ],
      [
        'Opera, Windows',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0',
        false,
        'Opera',
        'Windows',
        'desktop',
      ],
      ['Vivaldi, Windows', `${CHROME_WINDOWS} Vivaldi/7.0.3495.18`, false, 'Vivaldi', 'Windows', 'desktop'],
      [
        'Yandex Browser, Windows',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 YaBrowser/24.12.0.0 Safari/537.36',
        false,
        'Yandex Browser',
        'Windows',
        'desktop',
      ],
    ])
  })

  test('current browsers on phones and tablets', () => {
    check([
      [
        'Chrome, Android phone',
        'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
        false,
        'Chrome',
        'Android',
        'mobile',
      ],
      [
        'Chrome, Android tablet',
        'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        false,
        'Chrome',
        'Android',
        'tablet',
      ],
      [
        'Chrome, iPhone',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
        false,
        'Chrome',
        'iOS',
        'mobile',
      ],
      [
        'Safari, iPhone',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
        false,
        'Safari',
        'iOS',
        'mobile',
      ],
      [
        'Safari, iPad',
        'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
        false,
        'Safari',
        'iOS',
        'tablet',
      ],
      [
        'Firefox, Android',
        'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0',
        false,
        'Firefox',
        'Android',
        'mobile',
      ],
      [
        'Firefox, iPhone',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15',
        false,
        'Firefox',
        'iOS',
        'mobile',
      ],
      [
        'Edge, Android',
        'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0',
        false,
        'Edge',
        'Android',
        'mobile',
      ],
      [
        'Samsung Internet',
        'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
        false,
        'Samsung Internet',
        'Android',
        'mobile',
      ],
      [
        'Opera, Android',
        'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0',
        false,
        'Opera',
        'Android',
        'mobile',
      ],
      [
        'Android WebView',
        'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36',
        false,
        'Chrome',
        'Android',
        'mobile',
      ],
    ])
  })

  test('bots, tools, an empty User-Agent', () => {
    check([
      [
        'Googlebot',
        'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
        true,
        'Googlebot',
        '(unknown)',
        '(unknown)',
      ],
      [
        'Googlebot smartphone',
        'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
        true,
        'Googlebot',
        'Android',
        '(unknown)',
      ],
      [
        'headless Chrome',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
        true,
        'Chrome',
        'Linux',
        'desktop',
      ],
      ['curl', 'curl/8.5.0', true, '(unknown)', '(unknown)', '(unknown)'],
      ['empty', '', true, '(unknown)', '(unknown)', '(unknown)'],
      ['blank', '   ', true, '(unknown)', '(unknown)', '(unknown)'],
    ])
  })

  test('a name bowser reads off an unknown User-Agent is not a family: fields keep bounded values', () => {
    check([
      ['made-up token', 'Evil-Thing/1.0 (hello)', false, '(unknown)', '(unknown)', '(unknown)'],
      ['another', 'Zz9/1 (x; y)', false, '(unknown)', '(unknown)', '(unknown)'],
      [
        'a TV (not a device family here)',
        'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36',
        false,
        'Samsung Internet',
        'Tizen',
        '(unknown)',
      ],
    ])
    const browsers = new Set<string>()
    for (let i = 0; i < 500; i++) browsers.add(clientInfo(`Tool${i}/1.0 (compatible)`).browser)
    expect([...browsers]).toEqual(['(unknown)'])
  })

  test('records are frozen and shared by User-Agents that read the same', () => {
    const a = clientInfo(CHROME_WINDOWS)
    const b = clientInfo(CHROME_WINDOWS.replace('131.0.0.0', '130.0.0.0'))
    expect(a).toBe(b)
    expect(Object.isFrozen(a)).toBe(true)
    expect(() => {
      ;(a as { browser: string }).browser = 'changed'
    }).toThrow(TypeError)
    expect(clientInfo(CHROME_WINDOWS).browser).toBe('Chrome')
  })

  test('a User-Agent longer than any browser sends is read up to the limit only', () => {
    const padding = 'x'.repeat(MAX_USER_AGENT_LENGTH)
    expect(clientInfo(`${CHROME_WINDOWS} ${padding}`)).toEqual({
      bot: false,
      browser: 'Chrome',
      os: 'Windows',
      device: 'desktop',
    })
    // what lies past the limit is not read: the Edge and crawler tokens are not seen
    expect(clientInfo(`${CHROME_WINDOWS} ${padding} Edg/131.0.0.0`).browser).toBe('Chrome')
    expect(clientInfo(`${CHROME_WINDOWS} ${padding} Googlebot/2.1`).bot).toBe(false)
    expect(clientInfo(`${CHROME_WINDOWS} Googlebot/2.1`).bot).toBe(true)
    const junk: ClientInfo = clientInfo('a/b ('.repeat(20_000))
    expect(junk).toEqual({ bot: false, browser: '(unknown)', os: '(unknown)', device: '(unknown)' })
  })

  test('many distinct User-Agents: answers stay right as they are forgotten and parsed again', () => {
    for (let i = 0; i < CLIENT_CACHE_SIZE * 2; i++) clientInfo(`${CHROME_WINDOWS} build/${i}`)
    expect(clientInfo(`${CHROME_WINDOWS} build/0`)).toEqual({
      bot: false,
      browser: 'Chrome',
      os: 'Windows',
      device: 'desktop',
    })
  })
})
