/**
 * Sites on the dashboard: which one the page shows, the switch between them, every site at a
 * glance, and a site's shared links.
 *
 * - The page shows the site its address names (`?site=`, an id or a domain), or the only one. With
 *   several sites and none named, the admin and viewer tokens see every site at a glance first.
 * - Each site is shown in its own time zone, with its own counted properties: the page's
 *   configuration is the site's (`GET /analytics/sites`), not the deployment's.
 * - A shared link's token sees its own site alone, and no switch.
 * - The admin makes, lists and revokes a site's shared links below its dashboard; a link's address
 *   is shown once, when it is made.
 */
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import type { SiteOverview } from '../../read/overview.ts'
import { apiUrl } from '../api.ts'
import { formatExact } from '../format.ts'
import type { PageConfig } from '../page-config.ts'
import { useApi, useRead } from '../reads.ts'
import { Failure } from './Failure.tsx'

/** A site as `GET /analytics/sites` lists it. */
export interface SiteAnswer {
  id: number
  name: string
  domains: string[]
  time_zone: string
  allowed_origins: string[]
  counted_properties: string[]
}

interface SitesAnswer {
  sites: SiteAnswer[]
  manage: boolean
}

/** `GET /analytics/overview`: every site at a glance (the server's own shape) */
interface OverviewAnswer {
  sites: SiteOverview[]
}

interface LinkAnswer {
  id: number
  site: number
  name: string
  created_at: string
}

/** The site an address names: by id, or by one of its domains (`www.` or not). */
function named(sites: readonly SiteAnswer[], name: string): SiteAnswer | undefined {
  const wanted = name
    .trim()
    .toLowerCase()
    .replace(/^www\./, '')
  return sites.find((s) => String(s.id) === wanted || s.domains.includes(wanted))
}

/** Goes to another site's dashboard (or, for none, to every site at a glance): a new page of its own. */
function goTo(site: number | undefined) {
  location.search = site === undefined ? '' : `?site=${site}`
}

export interface SiteShown {
  site: SiteAnswer
  /** the page's configuration for this site: its zone and counted properties */
  config: PageConfig
  /** the switch between sites, for the page's header (nothing with one site) */
  picker: ComponentChildren
  /** the site's shared links, for the admin (nothing for other tokens) */
  links: ComponentChildren
}

/**
 * Reads the sites, then shows `children` for the site the address names (or the only one), or
 * every site at a glance when the address names none of several.
 */
export function SiteGate({
  children,
  onSignOut,
}: {
  children: (shown: SiteShown) => ComponentChildren
  onSignOut: () => void
}) {
  const read = useRead<SitesAnswer>(apiUrl('analytics/sites'))
  if (read.state === 'error') return <Failure what="Sites" read={read} />
  if (read.state === 'loading') return <main data-state="loading" aria-busy="true" />
  const { sites, manage } = read.data
  const asked = new URLSearchParams(location.search).get('site')
  const site = asked ? named(sites, asked) : sites.length === 1 ? sites[0] : undefined
  if (!site) return <Overview sites={sites} unknown={asked ?? undefined} onSignOut={onSignOut} />
  return (
    <>
      {children({
        site,
        config: { timeZone: site.time_zone, countedProperties: site.counted_properties },
        picker: sites.length > 1 ? <SitePicker sites={sites} site={site} /> : null,
        links: manage ? <Links site={site} /> : null,
      })}
    </>
  )
}

function SitePicker({ sites, site }: { sites: readonly SiteAnswer[]; site: SiteAnswer }) {
  return (
    <label class="site-picker">
      <span class="sr-only">Site</span>
      <select
        value={String(site.id)}
        onChange={(e) => goTo(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
      >
        <option value="">All sites</option>
        {sites.map((s) => (
          <option key={s.id} value={String(s.id)}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  )
}

/** A day series as a line: the shape of a trend, not its values (the numbers beside it say those). */
function Spark({ values, label }: { values: number[]; label: string }) {
  const max = Math.max(1, ...values)
  const step = values.length > 1 ? 100 / (values.length - 1) : 0
  const points = values.map((v, i) => `${(i * step).toFixed(2)},${(28 - (v / max) * 26).toFixed(2)}`).join(' ')
  return (
    <svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none" role="img" aria-label={label}>
      <polyline points={points} />
    </svg>
  )
}

/** Every site at a glance: its visitors, visits and page views over its last 30 days, and their trend. */
function Overview({
  sites,
  unknown,
  onSignOut,
}: {
  sites: readonly SiteAnswer[]
  unknown?: string
  onSignOut: () => void
}) {
  const read = useRead<OverviewAnswer>(apiUrl('analytics/overview'))
  return (
    <div class="page">
      <header class="top">
        <h1>edge analytics</h1>
        <button type="button" class="link signout" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <main data-state={read.state === 'loading' ? 'loading' : 'ready'} aria-busy={read.state === 'loading'}>
        {unknown !== undefined && (
          <div class="notice" role="status" data-notice>
            <p>No site is {JSON.stringify(unknown.slice(0, 100))}: pick one below.</p>
          </div>
        )}
        <section class="panel overview" data-panel="overview" aria-labelledby="overview-title">
          <header>
            <h2 id="overview-title">All sites</h2>
            <p class="note">The last 30 days of each site, in its own time zone.</p>
          </header>
          {read.state === 'error' && <Failure what="All sites" read={read} />}
          {read.state === 'ok' && (
            <table class="overview-table">
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">Visitors</th>
                  <th scope="col">Visits</th>
                  <th scope="col">Page views</th>
                  <th scope="col">Trend of visits</th>
                </tr>
              </thead>
              <tbody>
                {read.data.sites.map((o) => (
                  <tr key={o.id} data-site={o.id}>
                    <th scope="row">
                      <a href={`?site=${o.id}`}>{o.name}</a>
                      <span class="domains">{o.domains.join(', ') || (o.id === 0 ? 'every other page' : '')}</span>
                    </th>
                    <td data-field="visitors">{formatExact(o.visitors)}</td>
                    <td data-field="visits">{formatExact(o.visits)}</td>
                    <td data-field="page_views">{formatExact(o.page_views)}</td>
                    <td>
                      <Spark
                        values={o.trend.map((p) => p.visits)}
                        label={`Visits of ${o.name} by day, ${o.from} to ${o.to}`}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {read.state === 'loading' && <p class="note">{sites.length} sites…</p>}
        </section>
      </main>
    </div>
  )
}

/**
 * The site's shared links, folded until opened: its read (of Postgres) goes out only then, so a
 * page that never opens it neither waits for it nor counts on it while Postgres is down.
 */
function Links({ site }: { site: SiteAnswer }) {
  const [open, setOpen] = useState(false)
  return (
    <details
      class="panel links"
      data-panel="links"
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>
        <h2 id="links-title">Shared links</h2>
      </summary>
      {open && <LinkList site={site} />}
    </details>
  )
}

/** The links themselves: read-only addresses of this site alone, each made, named and revoked here. */
function LinkList({ site }: { site: SiteAnswer }) {
  const api = useApi()
  const [round, setRound] = useState(0)
  const [name, setName] = useState('')
  const [made, setMade] = useState<{ name: string; url: string } | undefined>()
  const [problem, setProblem] = useState('')
  const url = apiUrl(`analytics/sites/${site.id}/links`)
  const read = useRead<{ links: LinkAnswer[] }>(url, round)
  const change = async (method: 'POST' | 'DELETE', path: string, body?: unknown) => {
    setProblem('')
    try {
      const res = await api.change(method, path, body)
      api.forget(url)
      setRound((r) => r + 1)
      return res
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err))
      return undefined
    }
  }
  return (
    <>
      <p class="note">Each opens this site’s dashboard, read-only, and nothing of another site.</p>
      <form
        class="lookup"
        onSubmit={async (e) => {
          e.preventDefault()
          if (!name.trim()) return
          const res = await change('POST', url, { name: name.trim() })
          if (!res) return
          const link = (await res.json()) as LinkAnswer & { url: string }
          setMade({ name: link.name, url: new URL(link.url, location.href).href })
          setName('')
        }}
      >
        <label for="link-name">For</label>
        <input
          id="link-name"
          value={name}
          maxLength={100}
          placeholder="a client, a screen"
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <button type="submit">Make a link</button>
      </form>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {made && (
        <p class="made" role="status" data-made>
          The link for <strong>{made.name}</strong>, shown this once: <code class="code">{made.url}</code>
        </p>
      )}
      {read.state === 'error' && <Failure what="Shared links" read={read} />}
      {read.state === 'ok' &&
        (read.data.links.length === 0 ? (
          <p class="none">No shared links of {site.name}.</p>
        ) : (
          <ul class="link-list">
            {read.data.links.map((l) => (
              <li key={l.id} data-link={l.id}>
                <span>{l.name}</span> <span class="note">made {l.created_at.slice(0, 10)}</span>{' '}
                <button type="button" class="link" onClick={() => change('DELETE', `${url}/${l.id}`)}>
                  Revoke
                </button>
              </li>
            ))}
          </ul>
        ))}
    </>
  )
}
