/**
 * Signed in or not. The token comes from the link (`#token=…`) or the form, is kept in the tab,
 * and a refusal anywhere (a read, the live feed) brings the form back with the reason.
 */
import { useMemo, useState } from 'preact/hooks'
import { createApi } from '../api.ts'
import type { PageConfig } from '../page-config.ts'
import { ApiContext } from '../reads.ts'
import { forgetToken, readToken, saveToken, takeLinkToken } from '../token.ts'
import { Dashboard } from './Dashboard.tsx'
import { SignIn } from './SignIn.tsx'
import { SiteGate } from './Sites.tsx'

/** What the sign-in form says after the server refused the token, with the server's reason. */
export const refusedMessage = (reason?: string): string =>
  reason ? `That token was refused: ${reason}. Check it and type it again.` : 'Sign in again.'

export function App({ config }: { config: PageConfig }) {
  const [session, setSession] = useState(() => {
    const linkRead = takeLinkToken()
    return {
      signedIn: linkRead && readToken() !== undefined,
      message: linkRead ? '' : 'The token in the link could not be read. Type it here.',
      // a new sign-in starts a new dashboard: nothing of the last one's reads is kept
      generation: 0,
    }
  })
  const signOut = (message = '') => {
    forgetToken()
    api.forget()
    setSession((s) => ({ signedIn: false, message, generation: s.generation + 1 }))
  }
  const api = useMemo(() => createApi({ token: readToken, onRefused: (reason) => signOut(refusedMessage(reason)) }), [])

  if (!session.signedIn)
    return (
      <SignIn
        message={session.message}
        onToken={(token) => {
          saveToken(token)
          setSession((s) => ({ signedIn: true, message: '', generation: s.generation + 1 }))
        }}
      />
    )
  return (
    <ApiContext.Provider value={api}>
      <SiteGate key={session.generation} onSignOut={() => signOut()}>
        {({ site, config: own, picker, links }) => (
          <Dashboard
            key={site.id}
            // the deployment's zone and properties until the server says the site's (an older server)
            config={{ ...config, ...own }}
            onSignOut={signOut}
            picker={picker}
            links={links}
          />
        )}
      </SiteGate>
    </ApiContext.Provider>
  )
}
