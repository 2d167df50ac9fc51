/**
 * The dashboard page (`GET /dashboard`): built by src/dashboard/build.ts into public/dashboard.js
 * and public/dashboard.css.
 */
import { render } from 'preact'
import { App } from './components/App.tsx'
import { pageConfig } from './page-config.ts'

const root = document.getElementById('app')
if (root) render(<App config={pageConfig(document)} />, root)
